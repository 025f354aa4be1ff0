// Staff incentives: the period's leaderboard (quota attainment and payout, ranked by payout), and
// each person's statement (tiers, gates, cap) one click away, from their scorecard.
import { h, show, table } from '../dom.js';
import { query } from '../api.js';
import { bar, indicatorOf, notComputed, notComputedWords, numberOrNull, sizeBars } from '../format.js';

export async function load(api, view) {
  return api.all(`/api/snapshots?${query({ grain: view.grain, period: view.period, family: 'staff-incentives' })}`);
}

/**
 * Everyone with a payout or quota row, ranked by payout across all of them (competition ranks: 1, 2, 2, 4;
 * no payout, no rank), as the rows' own rankByPayout ranks the period's staff across plans.
 */
export function leaderboard(rows) {
  const people = new Map();
  for (const row of rows.filter(r => r.scope.startsWith('staff:'))) {
    const id = row.scope.slice('staff:'.length);
    const person = people.get(id) ?? { staffId: id, quotaAttainment: null, payout: null, rank: null };
    if (row.indicator === 'staff.quota-attainment') person.quotaAttainment = numberOrNull(row.value);
    if (row.indicator === 'staff.incentive-payout') person.payout = numberOrNull(row.value);
    people.set(id, person);
  }
  const list = [...people.values()];
  for (const person of list) {
    person.rank = person.payout === null ? null : 1 + list.filter(other => other.payout !== null && other.payout > person.payout).length;
  }
  return list.sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9) || (b.quotaAttainment ?? -1e9) - (a.quotaAttainment ?? -1e9) || a.staffId.localeCompare(b.staffId));
}

export function render(body, rows, view, words, context, actions) {
  const people = leaderboard(rows);
  if (people.length === 0) {
    const period = words.periodName(view.grain, view.period);
    show(body, h('p', { class: 'empty' }, notComputed(context, view) ? words.t(notComputedWords(context, view), { period }) : words.t('noStaff', { period })));
    return;
  }
  show(body, table(words.t('staffTable', { period: words.periodName(view.grain, view.period) }),
    [words.t('rank'), words.t('person'), words.t('quotaAttainment'), words.t('payout'), { content: words.t('statement'), class: 'visually-hidden-text' }],
    people.map(p => h('tr', { dataset: { staff: p.staffId, payout: p.payout ?? '' } },
      h('td', { class: 'num' }, p.rank === null ? '—' : words.number(p.rank, 0)),
      h('th', { scope: 'row', class: 'staff-id', dir: 'auto' }, p.staffId),
      // Each figure names its column (data-label): at phone width a row is a card, each figure under its name.
      h('td', { dataset: { label: words.t('quotaAttainment') } }, bar(words, p.quotaAttainment)),
      h('td', { class: 'num', dataset: { label: words.t('payout') } }, words.money(p.payout)),
      h('td', {}, h('button', { type: 'button', class: 'link-button', 'aria-label': words.t('openStatement', { staff: p.staffId }), dataset: { statement: p.staffId },
        onclick: event => actions.openStatement(p.staffId, event.currentTarget) }, words.t('statement'))))),
    { class: 'staff-table' }));
  sizeBars(body);
}

export function loadStatement(api, view, staffId) {
  return api.get(`/api/staff/${encodeURIComponent(staffId)}/scorecard?${query({ grain: view.grain, period: view.period })}`);
}

/** The payout statement: the measure against the quota, each tier's band and amount, each gate, the cap, the payout. */
export function renderStatement(body, card, view, words, context) {
  const details = card.statement;
  if (!details) {
    show(body, h('p', { class: 'empty' }, words.t('noStaff', { period: words.periodName(view.grain, view.period) })));
    return;
  }
  const lines = details.statement ?? {};
  // Every amount to the cent, so the tiers add up to the gross on screen (headline tiles round large figures; a statement does not).
  const money = value => words.money(numberOrNull(value));
  const percent = value => words.value(numberOrNull(value), '%');
  const band = tier => tier.to === null || tier.to === undefined ? `≥ ${percent(tier.from)}` : `${percent(tier.from)} – ${percent(tier.to)}`;
  show(body,
    h('dl', { class: 'facts' },
      h('dt', {}, words.t('plan')), h('dd', {}, details.planId),
      h('dt', {}, words.t('measure')), h('dd', {}, `${words.indicatorName(details.measure)}: ${money(details.measureValue)}`),
      h('dt', {}, words.t('quota')), h('dd', {}, money(details.quota)),
      h('dt', {}, words.t('quotaAttainment')), h('dd', {}, percent(details.quotaAttainment)),
      h('dt', {}, words.t('rank')), h('dd', {}, words.t('rankOf', { rank: words.number(details.rankByPayout, 0), count: words.number(details.participants, 0) }))),
    h('h3', {}, words.t('tiers')),
    table(words.t('tiers'), [words.t('band'), words.t('base'), words.t('rate'), words.t('amount')],
      (lines.tiers ?? []).map(t => [band(t), { content: money(t.base), class: 'num' }, { content: percent(100 * t.rate), class: 'num' }, { content: money(t.amount), class: 'num' }]),
      { class: 'tiers-table' }),
    h('p', { class: 'total' }, `${words.t('gross')}: `, h('strong', {}, money(lines.gross))),
    h('h3', {}, words.t('gates')),
    (lines.gates ?? []).length === 0 ? h('p', {}, words.t('none')) : table(words.t('gates'),
      [words.t('indicator'), words.t('minimum'), words.t('value'), words.t('status'), words.t('factor')],
      lines.gates.map(g => h('tr', { class: g.passed ? 'gate-passed' : 'gate-failed' },
        h('td', {}, words.indicatorName(g.indicator)),
        h('td', { class: 'num' }, words.value(numberOrNull(g.min), indicatorOf(context, g.indicator).unit)),
        h('td', { class: 'num' }, words.value(numberOrNull(g.value), indicatorOf(context, g.indicator).unit)),
        h('td', {}, h('span', { class: `chip ${g.passed ? 'status-achieved' : 'status-missed'}` }, g.passed ? words.t('passed') : words.t('failedGate'))),
        h('td', { class: 'num' }, `× ${words.number(g.factor, 2)}`))),
      { class: 'gates-table' }),
    h('p', { class: 'total' }, `${words.t('afterGates')}: `, h('strong', {}, money(lines.afterGates))),
    h('p', { class: 'total' }, `${words.t('cap')}: `, lines.cap === null || lines.cap === undefined ? words.t('none') : money(lines.cap)),
    h('p', { class: 'total grand' }, `${words.t('payout')}: `, h('strong', { dataset: { payout: card.payout } }, money(card.payout))));
}

export function csv(rows, view) {
  return leaderboard(rows).map(p => ({
    section: 'staff', indicator: 'staff.incentive-payout', name: p.staffId, scope: `staff:${p.staffId}`, grain: view.grain, period: view.period,
    value: p.payout, unit: 'currency', attainment: p.quotaAttainment, rank: p.rank,
  }));
}
