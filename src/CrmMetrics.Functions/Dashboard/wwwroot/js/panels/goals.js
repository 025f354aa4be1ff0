// Goal attainment: every goal of the period with actual, target, stretch, attainment, projection
// and status; children listed under their parent. With a scope other than the organisation, only
// that scope's goals.
import { h, show, table } from '../dom.js';
import { query } from '../api.js';
import { bar, goalStatus, indicatorOf, notComputed, notComputedWords, sizeBars, statusChip } from '../format.js';

export async function load(api, view) {
  return (await api.get(`/api/goals/attainment?${query({ grain: view.grain, period: view.period })}`)).items;
}

/** A goal's name for readers of <code>lang</code>: Persian readers see its nameFa where it has one. */
export const nameIn = (goal, lang) => (lang === 'fa' ? goal.nameFa : null) ?? goal.name ?? goal.goalId;

/**
 * Parents first, each followed by its children (depth-first), in name order. A composite (balanced
 * scorecard) goal is followed by its weighted parts, in the order it names them, each with its weight.
 * Names are those the reader sees, in the order of the reader's language.
 */
export function ordered(goals, view) {
  const shown = view.scope === 'org' ? goals : goals.filter(g => g.scope === view.scope);
  const ids = new Set(shown.map(g => g.goalId));
  const parts = new Set(shown.filter(g => g.composite).flatMap(g => (g.children ?? []).map(c => c.goalId)));
  const byName = (a, b) => nameIn(a, view.lang).localeCompare(nameIn(b, view.lang), view.lang);
  const result = [];
  // Each row carries the goal it is listed under: a composite's parts name no parentGoalId of their own.
  const visit = (goal, depth, weight, parent) => {
    result.push({ goal, depth, weight, parent });
    if (goal.composite) {
      for (const part of goal.children ?? []) {
        const child = shown.find(g => g.goalId === part.goalId);
        if (child) visit(child, depth + 1, part.weight, goal);
      }
      return;
    }
    for (const child of shown.filter(g => g.parentGoalId === goal.goalId).sort(byName)) visit(child, depth + 1, null, goal);
  };
  for (const root of shown.filter(g => (!g.parentGoalId || !ids.has(g.parentGoalId)) && !parts.has(g.goalId)).sort(byName)) visit(root, 0, null, null);
  return result;
}

export function render(body, goals, view, words, context, actions) {
  const rows = ordered(goals, view);
  if (rows.length === 0) {
    const period = words.periodName(view.grain, view.period);
    show(body, h('p', { class: 'empty' }, notComputed(context, view) ? words.t(notComputedWords(context, view), { period })
      : view.scope === 'org' ? words.t('noGoals', { period }) : words.t('noGoalsScope', { scope: words.scopeName(view.scope), period })));
    return;
  }
  show(body, table(words.t('goalsTable', { scope: words.scopeName(view.scope), period: words.periodName(view.grain, view.period) }),
    [words.t('goal'), words.t('actual'), words.t('target'), words.t('stretch'), words.t('attainment'), words.t('projection'), words.t('status')],
    rows.map(({ goal, depth, weight, parent }) => {
      // A composite's actual is its weighted score (a percentage of 100); it names no indicator of its own.
      const unit = goal.composite ? '%' : indicatorOf(context, goal.indicator).unit;
      const what = goal.composite ? words.t('composite') : `${words.indicatorName(goal.indicator)} · ${words.scopeName(goal.scope)}`;
      return h('tr', { class: depth > 0 ? 'child' : null, dataset: { goal: goal.goalId, depth: String(depth) } },
        h('th', { scope: 'row', class: `goal-name depth-${Math.min(depth, 3)}` },
          goal.composite
            ? h('span', { dir: 'auto' }, nameIn(goal, words.lang))
            : h('button', { type: 'button', class: 'link-button', dir: 'auto', onclick: () => actions.showTrend(goal.indicator, goal.scope) }, nameIn(goal, words.lang)),
          h('span', { class: 'muted small' }, weight === null || weight === undefined ? what : `${what} · ${words.t('weight', { weight: words.value(weight, '%') })}`),
          parent ? h('span', { class: 'visually-hidden' }, words.t('child', { parent: nameIn(parent, words.lang) })) : null),
        // Numbers are never rounded onto the figure they are judged against (the actual onto the target, an attainment onto 100 %).
        // Each cell names its column (data-label): at phone width a row is a card, each figure under its name.
        h('td', { class: 'num', dataset: { label: words.t('actual') } }, words.valueAgainst(goal.actual, unit, goal.target, goal.stretch)),
        h('td', { class: 'num', dataset: { label: words.t('target') } }, words.valueAgainst(goal.target, unit, goal.actual)),
        h('td', { class: 'num', dataset: { label: words.t('stretch') } }, goal.stretch === null || goal.stretch === undefined ? '—' : words.valueAgainst(goal.stretch, unit, goal.actual)),
        h('td', { dataset: { label: words.t('attainment') } }, bar(words, goal.attainment, null, goal.threshold)),
        h('td', { class: 'num', dataset: { label: words.t('projection') } }, goal.projected === null || goal.projected === undefined ? '—'
          : `${words.valueAgainst(goal.projected, unit, goal.target)} (${words.valueAgainst(goal.projectedAttainment, '%', 100, goal.threshold)})`),
        h('td', { class: 'goal-status', dataset: { label: words.t('status') } }, statusChip(words, goalStatus(goal))));
    }), { class: 'goals-table' }));
  sizeBars(body);
}

export function csv(goals, view, words, context) {
  return ordered(goals, view).map(({ goal }) => ({
    section: 'goal', indicator: goal.indicator, name: nameIn(goal, words.lang), scope: goal.scope, grain: goal.grain, period: goal.period,
    value: goal.actual, unit: goal.composite ? '%' : indicatorOf(context, goal.indicator).unit,
    target: goal.target, stretch: goal.stretch, attainment: goal.attainment, status: goalStatus(goal), projected: goal.projected,
  }));
}
