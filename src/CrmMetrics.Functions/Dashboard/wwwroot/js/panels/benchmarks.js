// Competitor benchmarks: market share and relative market share, and for every figure competitors
// report, ours against each competitor's and their mean, with our percentile among them; the share
// of deals won against each competitor.
import { h, show, table } from '../dom.js';
import { query } from '../api.js';
import { indicatorOf, judge, notComputed, notComputedWords, numberOrNull } from '../format.js';

export async function load(api, view) {
  return (await api.get(`/api/benchmarks?${query({ grain: view.grain, period: view.period })}`)).items;
}

/** Per reported figure: ours, each competitor's, the peer mean and our percentile. */
export function comparison(items) {
  const figures = new Map();
  const figure = x => figures.get(x) ?? figures.set(x, { indicator: x, own: null, competitors: new Map(), mean: null, percentile: null }).get(x);
  for (const row of items) {
    const match = /^bench\.(gap|index|percentile)\.(.+)$/.exec(row.indicator);
    if (!match) continue;
    const entry = figure(match[2]);
    if (row.details && 'own' in row.details) entry.own = numberOrNull(row.details.own);
    if (match[1] === 'gap') entry.competitors.set(row.details?.competitor ?? row.scope.slice('competitor:'.length), numberOrNull(row.details?.competitorValue));
    if (match[1] === 'index') entry.mean = numberOrNull(row.details?.competitorMean);
    if (match[1] === 'percentile') entry.percentile = numberOrNull(row.value);
  }
  const competitors = [...new Set([...figures.values()].flatMap(f => [...f.competitors.keys()]))].sort();
  const winRates = items.filter(r => r.indicator === 'bench.win-rate-vs').map(r => ({ competitor: r.scope.slice('competitor:'.length), value: numberOrNull(r.value), won: r.details?.won, closed: r.details?.closed }));
  const value = id => numberOrNull(items.find(r => r.indicator === id && r.scope === 'org')?.value);
  return { share: value('bench.market-share'), relative: value('bench.relative-market-share'), figures: [...figures.values()], competitors, winRates };
}

/** The unit of a benchmarked figure: market share is a percentage, the others have their indicator's unit. */
function unitOfFigure(context, figure) {
  return figure === 'market-share' ? '%' : indicatorOf(context, figure).unit;
}

export function render(body, items, view, words, context) {
  const data = comparison(items);
  // Rows without a figure (a period without competitor observations still has its share rows, null) say so in words, not with dashes.
  if (data.share === null && data.relative === null && data.figures.length === 0 && data.winRates.length === 0) {
    const period = words.periodName(view.grain, view.period);
    show(body, h('p', { class: 'empty' }, notComputed(context, view) ? words.t(notComputedWords(context, view), { period }) : words.t('noBenchmarks', { period })));
    return;
  }
  const unitOf = x => unitOfFigure(context, x);
  const directionOf = x => x === 'market-share' ? 'higher' : indicatorOf(context, x).direction;
  show(body,
    h('div', { class: 'key-figures' },
      h('div', { class: 'key-figure', dataset: { indicator: 'bench.market-share', value: data.share ?? '' } }, h('span', { class: 'tile-name' }, words.t('marketShare')), h('span', { class: 'tile-value' }, words.value(data.share, '%'))),
      h('div', { class: 'key-figure', dataset: { indicator: 'bench.relative-market-share', value: data.relative ?? '' } }, h('span', { class: 'tile-name' }, words.t('relativeShare')), h('span', { class: 'tile-value' }, words.value(data.relative, 'ratio')))),
    data.figures.length === 0 ? null : table(words.t('benchmarksTable', { period: words.periodName(view.grain, view.period) }),
      [words.t('indicator'), words.t('us'), ...data.competitors, words.t('peerMean'), words.t('percentile')],
      data.figures.map(f => {
        const unit = unitOf(f.indicator);
        const verdict = f.own === null || f.mean === null ? '' : judge(f.own - f.mean, directionOf(f.indicator));
        return h('tr', { dataset: { indicator: f.indicator } },
          h('th', { scope: 'row' }, words.indicatorName(f.indicator)),
          h('td', { class: `num own ${verdict}` }, words.value(f.own, unit), verdict ? h('span', { class: 'visually-hidden' }, ` (${words.t(verdict)})`) : null),
          data.competitors.map(c => h('td', { class: 'num' }, words.value(f.competitors.get(c) ?? null, unit))),
          h('td', { class: 'num' }, words.value(f.mean, unit)),
          h('td', { class: 'num' }, words.value(f.percentile, '%')));
      }), { class: 'benchmarks-table' }),
    data.winRates.length === 0 ? null : h('div', {},
      h('h3', {}, words.t('winRateVs')),
      h('ul', { class: 'win-rates' }, data.winRates.map(w => h('li', {}, h('span', {}, w.competitor), ' ', h('strong', {}, words.value(w.value, '%')),
        w.closed ? h('span', { class: 'muted' }, ` (${words.number(w.won ?? 0, 0)}/${words.number(w.closed, 0)})`) : null)))));
}

/**
 * The figures as the table shows them (ours under scope org, each competitor's under its scope, the
 * peer mean under scope competitors), then every benchmark row the API served (gaps, indices,
 * percentiles, shares and win rates).
 */
export function csv(items, view, words, context) {
  const data = comparison(items);
  const unitOf = x => unitOfFigure(context, x);
  const row = (indicator, name, scope, value, unit) => ({ section: 'benchmark', indicator, name, scope, grain: view.grain, period: view.period, value, unit });
  const shown = data.figures.flatMap(f => [
    row(f.indicator, words.indicatorName(f.indicator), 'org', f.own, unitOf(f.indicator)),
    ...data.competitors.map(c => row(f.indicator, `${words.indicatorName(f.indicator)} · ${c}`, `competitor:${c}`, f.competitors.get(c) ?? null, unitOf(f.indicator))),
    row(f.indicator, `${words.indicatorName(f.indicator)} · ${words.t('peerMean')}`, 'competitors', f.mean, unitOf(f.indicator)),
  ]);
  return [...shown, ...items.map(r => ({
    section: 'benchmark', indicator: r.indicator, name: words.indicatorName(r.indicator), scope: r.scope, grain: r.grain, period: r.period,
    value: numberOrNull(r.value), unit: r.unit,
  }))];
}
