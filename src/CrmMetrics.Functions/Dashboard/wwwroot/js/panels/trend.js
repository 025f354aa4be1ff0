// Trend: one indicator over the last twelve periods of the grain, for the view's scope, with the
// target of its goal drawn where a goal exists (goals that could not be loaded leave the line without
// it, and a note saying so), straight from point to point (a curve would bulge past
// the real figures). The chart is Chart.js (bundled, see the README);
// the same numbers are in a table for screen readers and for anyone who wants them exactly.
import { h, show, table } from '../dom.js';
import { query } from '../api.js';
import { goalsMissing, indicatorOf, numberOrNull, unlessFailed } from '../format.js';

export const length = 12;
export const defaultIndicator = 'com.revenue';

let chart = null;

/** The room (px) the time axis keeps beside each period's name when it names only some of them. */
const labelRoom = 16;

/** Below this width (px) a chart names its periods on two lines, the last word (the year, mostly) under the rest. */
const narrowChart = 480;

/** A period's name for the time axis: whole, or at a narrow chart's width on two lines (Chart.js draws an array as lines). */
function axisName(name, width) {
  const last = name.lastIndexOf(' ');
  return width >= narrowChart || last < 0 ? name : [name.slice(0, last), name.slice(last + 1)];
}

/** The keys of the twelve periods that end with the view's period, from the app's list of periods. */
export function trendPeriods(view, context) {
  const periods = context.grains.find(g => g.grain === view.grain)?.periods ?? [];
  const at = periods.findIndex(p => p.key === view.period);
  return at < 0 ? [view.period] : periods.slice(Math.max(0, at - length + 1), at + 1).map(p => p.key);
}

export async function load(api, view, context) {
  const indicator = view.indicator ?? defaultIndicator;
  const keys = trendPeriods(view, context);
  const [series, goals] = await Promise.all([
    api.get(`/api/indicators/${encodeURIComponent(indicator)}/series?${query({ grain: view.grain, from: keys[0], to: keys[keys.length - 1], scope: view.scope })}`),
    unlessFailed(api.get('/api/goals')),
  ]);
  const values = new Map(series.points.map(p => [p.period, numberOrNull(p.value)]));
  // A goal for this indicator, scope and grain: a recurring one applies to every period, a dated one to its own.
  const matching = (goals ?? []).filter(g => g.indicator === indicator && g.scope === view.scope && g.grain === view.grain);
  const targetOf = key => (matching.find(g => g.period === key) ?? matching.find(g => !g.period))?.target ?? null;
  return {
    indicator,
    goalsMissing: goals === null,
    points: keys.map(key => ({ period: key, value: values.has(key) ? values.get(key) : null, target: numberOrNull(targetOf(key)) })),
  };
}

export function render(body, data, view, words, context) {
  chart?.destroy();
  chart = null;
  const indicator = indicatorOf(context, data.indicator);
  const name = words.indicatorName(data.indicator);
  const scope = words.scopeName(view.scope);
  const caption = words.trendCaption(name, scope, data.points.length);
  body.closest('section').dataset.indicator = data.indicator;
  if (data.points.every(p => p.value === null)) {
    show(body, h('p', { class: 'empty' }, words.t('noTrend', { indicator: name, scope })));
    return;
  }
  const labels = data.points.map(p => words.periodName(view.grain, p.period));
  const hasTarget = data.points.some(p => p.target !== null);
  const canvas = h('canvas', { role: 'img', 'aria-label': caption });
  show(body,
    h('p', { class: 'panel-note' }, caption),
    data.goalsMissing ? goalsMissing(words) : null,
    h('div', { class: 'chart' }, canvas),
    h('details', { class: 'numbers' }, h('summary', {}, words.t('showNumbers')),
      table(caption, [words.t('period'), name, hasTarget ? words.t('goalTarget') : null].filter(Boolean),
        data.points.map((p, i) => [labels[i], { content: words.value(p.value, indicator.unit), class: 'num' }, hasTarget ? { content: words.value(p.target, indicator.unit), class: 'num' } : null].filter(x => x !== null)))));
  if (!globalThis.Chart) return;
  const font = { family: getComputedStyle(document.body).fontFamily };
  // Time runs the way the page reads: right to left in Persian. The points are given in that order rather than drawn
  // on a reversed axis, for which Chart.js keeps no room for the outer labels (found by probing: at phone width the
  // latest period's name was cut off at the chart's edge).
  const inReadingOrder = list => words.rtl ? list.slice().reverse() : list;
  const latest = words.rtl ? 0 : data.points.length - 1;
  chart = new globalThis.Chart(canvas, {
    type: 'line',
    data: {
      labels: inReadingOrder(labels),
      datasets: [
        { label: name, data: inReadingOrder(data.points.map(p => p.value)), borderColor: '#1d4ed8', backgroundColor: '#1d4ed8', pointRadius: 3, pointStyle: 'circle', tension: 0, spanGaps: true },
        hasTarget ? { label: words.t('goalTarget'), data: inReadingOrder(data.points.map(p => p.target)), borderColor: '#9a3412', backgroundColor: '#9a3412', borderDash: [6, 4], pointStyle: 'line',
          // A dated goal has one target: a point, since a line needs two.
          pointRadius: data.points.filter(p => p.target !== null).length === 1 ? 5 : 0, stepped: 'middle', spanGaps: false } : null,
      ].filter(Boolean),
    },
    options: {
      locale: words.locale,
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: {
          // Where the periods' names do not all fit (a phone), every few are named, with room between them, and
          // always the period on view: Chart.js keeps the major tick when it thins the others.
          afterBuildTicks: scale => { for (const tick of scale.ticks) tick.major = tick.value === latest; },
          ticks: {
            font, maxRotation: 0, autoSkip: true, autoSkipPadding: labelRoom, major: { enabled: true },
            callback(value) { return axisName(this.getLabelForValue(value), this.chart.width); },
          },
        },
        y: { position: words.rtl ? 'right' : 'left', ticks: { font, callback: value => words.value(value, indicator.unit) } },
      },
      plugins: {
        legend: { rtl: words.rtl, labels: { font, usePointStyle: true } },
        tooltip: { rtl: words.rtl, bodyFont: font, titleFont: font, callbacks: { label: item => `${item.dataset.label}: ${words.value(item.raw, indicator.unit)}` } },
      },
    },
  });
}

export function csv(data, view, words, context) {
  const indicator = indicatorOf(context, data.indicator);
  return data.points.map(p => ({
    section: 'trend', indicator: data.indicator, name: words.indicatorName(data.indicator), scope: view.scope, grain: view.grain, period: p.period,
    value: p.value, unit: indicator.unit, target: p.target,
  }));
}
