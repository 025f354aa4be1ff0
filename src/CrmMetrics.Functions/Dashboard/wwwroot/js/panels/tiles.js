// Headline tiles: for the view's scope, each family's headline indicators with the value, its
// change against the previous period (coloured by whether that is better or worse for the
// indicator), and the goal's status where a goal exists. Goals that could not be loaded leave the figures
// in place: the tiles show them without a status and say why.
import { h, show } from '../dom.js';
import { query } from '../api.js';
import { goalsMissing, goalStatus, indicatorOf, judge, notComputedWords, numberOrNull, periodEntry, statusChip, unlessFailed } from '../format.js';

export const headline = {
  commercial: ['com.revenue', 'com.orders', 'com.active-customers', 'com.new-customers', 'com.arpc', 'com.deal-win-rate'],
  'customer-experience': ['cx.nps', 'cx.csat', 'cx.ces', 'cx.complaints', 'cx.churn-rate', 'cx.resolution-hours-p90'],
};

export async function load(api, view) {
  const [current, previous, goals] = await Promise.all([
    api.all(`/api/snapshots?${query({ grain: view.grain, period: view.period, scope: view.scope })}`),
    view.previous ? api.all(`/api/snapshots?${query({ grain: view.grain, period: view.previous, scope: view.scope })}`) : Promise.resolve([]),
    unlessFailed(api.get(`/api/goals/attainment?${query({ grain: view.grain, period: view.period })}`)),
  ]);
  return { current, previous, goals: goals?.items ?? null };
}

export function tiles(data, view, context) {
  const byId = rows => new Map(rows.map(r => [r.indicator, r]));
  const current = byId(data.current);
  const previous = byId(data.previous);
  return Object.entries(headline).map(([family, ids]) => ({
    family,
    tiles: ids.filter(id => current.has(id)).map(id => {
      const row = current.get(id);
      const indicator = indicatorOf(context, id, row);
      const goal = data.goals?.find(g => g.indicator === id && g.scope === view.scope);
      return { id, indicator, value: numberOrNull(row.value), previous: numberOrNull(previous.get(id)?.value), goal, row };
    }),
  })).filter(group => group.tiles.length > 0);
}

export function render(body, data, view, words, context, actions) {
  const groups = tiles(data, view, context);
  if (groups.length === 0) {
    const computed = data.current.length > 0 || periodEntry(context, view)?.computed;
    // Figures stored under another calendar, in which this key named other days, are not served: say so rather than "not computed".
    show(body, h('p', { class: 'empty' }, computed
      ? words.t('noDataScope', { scope: words.scopeName(view.scope), period: words.periodName(view.grain, view.period) })
      : words.t(notComputedWords(context, view), { period: words.periodName(view.grain, view.period) })));
    return;
  }
  const previousName = view.previous ? words.periodName(view.grain, view.previous) : null;
  show(body, groups.map(group => h('div', { class: 'tile-group' },
    h('h3', {}, words.t(`families.${group.family}`)),
    h('div', { class: 'tile-grid' }, group.tiles.map(tile => renderTile(tile, view, words, previousName, actions))))),
  data.goals === null ? goalsMissing(words) : null);
}

function renderTile(tile, view, words, previousName, actions) {
  const change = words.change(tile.value, tile.previous, tile.indicator.unit);
  const verdict = change ? judge(change.delta, tile.indicator.direction) : null;
  const arrow = !change ? '' : change.delta > 0 ? '▲ ' : change.delta < 0 ? '▼ ' : '■ ';
  const goal = tile.goal;
  return h('button', {
    type: 'button', class: 'tile' + (view.indicator === tile.id ? ' selected' : ''),
    'aria-pressed': String(view.indicator === tile.id),
    dataset: { indicator: tile.id, value: tile.value ?? '' },
    onclick: () => actions.showTrend(tile.id),
  },
  h('span', { class: 'tile-name' }, tile.indicator.name[words.lang]),
  h('span', { class: 'tile-value' }, words.valueAgainst(tile.value, tile.indicator.unit, goal?.target)),
  change
    ? h('span', { class: `tile-change ${verdict}` }, arrow + change.text, ' ', h('span', { class: 'verdict' }, words.t(verdict)), previousName ? ` ${words.t('versus', { period: previousName })}` : '')
    // No change to show: either this period has no figure, or the one before it has none.
    : h('span', { class: 'tile-change none' }, words.t(tile.value === null ? 'noCurrent' : 'noPrevious')),
  goal ? statusChip(words, goalStatus(goal), goal.attainment === null ? null : words.valueAgainst(goal.attainment, '%', 100, goal.threshold)) : null);
}

/** The tiles as CSV rows. */
export function csv(data, view, words, context) {
  return tiles(data, view, context).flatMap(group => group.tiles.map(tile => ({
    section: 'headline', indicator: tile.id, name: tile.indicator.name[words.lang], scope: view.scope, grain: view.grain, period: view.period,
    value: tile.value, unit: tile.indicator.unit, previous: tile.previous, target: tile.goal?.target, attainment: tile.goal?.attainment, status: tile.goal ? goalStatus(tile.goal) : undefined,
  })));
}
