// Shared pieces of the panels: indicator facts, direction-aware comparison, status chips, bars.
import { h } from './dom.js';

/** The catalog entry of an indicator (unit, direction, family), or a neutral one for ids the catalog lacks. */
export function indicatorOf(context, id, row) {
  return context.indicators.find(i => i.id === id)
    ?? { id, family: row?.family ?? '', unit: row?.unit ?? '', direction: row?.direction ?? 'higher', name: { en: id, fa: id } };
}

/** 'better', 'worse' or 'same' for a change in a value, given which way is better. */
export function judge(delta, direction) {
  if (!delta) return 'same';
  return (delta > 0) === (direction !== 'lower') ? 'better' : 'worse';
}

/**
 * The status a goal is shown with: the API's, except that a goal with a target of 0 and an actual has no
 * attainment (the contract's null), so the API calls it no-data; shown so, its figure would sit beside "No data".
 */
export function goalStatus(goal) {
  return goal.status === 'no-data' && goal.target === 0 && goal.actual !== null && goal.actual !== undefined ? 'no-attainment' : goal.status;
}

export function statusChip(words, status, extra) {
  if (!status) return null;
  return h('span', { class: `chip status-${status}` }, words.t(`statuses.${status}`) + (extra ? ` · ${extra}` : ''));
}

/** A horizontal bar for a percentage (attainment), 100% marked, drawn to at most 150%; amber from the threshold (a goal's, else 90). */
export function bar(words, percent, label, threshold = 90) {
  if (percent === null || percent === undefined) return h('span', { class: 'muted' }, '—');
  const width = Math.max(0, Math.min(percent, 150)) / 1.5;
  const tone = percent >= 100 ? 'good' : percent >= (threshold ?? 90) ? 'warn' : 'bad';
  return h('span', { class: 'bar-cell' },
    h('span', { class: 'bar', role: 'img', 'aria-label': label ?? words.valueAgainst(percent, '%', 100, threshold) },
      h('span', { class: `bar-fill ${tone}`, dataset: { width: width.toFixed(1) } }),
      h('span', { class: 'bar-mark' })),
    h('span', { class: 'num' }, words.valueAgainst(percent, '%', 100, threshold)));
}

/** Bars get their width through CSSOM (allowed by the page's style-src 'self'), not a style attribute. */
export function sizeBars(root) {
  for (const fill of root.querySelectorAll('.bar-fill[data-width]')) fill.style.inlineSize = `${fill.dataset.width}%`;
}

/** Whether the view's period is one no run has computed yet: its panels are empty for that reason, not for want of goals or plans. */
/** The reporting context's entry for the period shown, if it lists it. */
export function periodEntry(context, view) {
  return context.grains.find(g => g.grain === view.grain)?.periods.find(p => p.key === view.period);
}

export function notComputed(context, view) {
  return periodEntry(context, view)?.computed === false;
}

/** Why a period has no figures: not computed yet, or computed under another calendar in which its key named other days. */
export function notComputedWords(context, view) {
  return periodEntry(context, view)?.calendarChange ? 'calendarChanged' : 'noData';
}

/**
 * What a panel's goals loaded to: the answer, or null when the app could not give them (the panel shows its
 * figures without them and says so). A refused key is not a missing answer: the page asks for another.
 */
export async function unlessFailed(answer) {
  try {
    return await answer;
  } catch (error) {
    if (error?.isKeyProblem) throw error;
    return null;
  }
}

/** The note a panel shows under figures it had to show without their goals. */
export function goalsMissing(words) {
  return h('p', { class: 'goals-missing muted small' }, words.t('goalsMissing'));
}

export function numberOrNull(value) {
  return value === null || value === undefined ? null : Number(value);
}
