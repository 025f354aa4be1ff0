// The alerts that need attention: those of the period on screen first (asked for by period, however
// long ago it was), then every other alert still open; within each, open before resolved, the worst
// first, the latest raised first; an alert about a period still running (a goal at risk, while there is
// time to act) before one about a period that is over (a goal missed). Each shows its severity, whether
// it is still open, the message in the page's language, and a link that opens this page at the figure
// it is about (its grain, period, scope and indicator). A recovery is not listed on its own: the alert
// it resolved says "Resolved". The first few are shown, with the count and a toggle for the rest. An
// alert about a composite goal names the goal as the goals panel does (GET /api/goals, which the trend
// asks for too); without an answer, by its id.
import { h, show } from '../dom.js';
import { query } from '../api.js';
import { unlessFailed } from '../format.js';
import { viewAddress } from '../view.js';
import { nameIn } from './goals.js';

/** How many alerts the panel shows before "Show all". */
export const shown = 8;

// Whether the reader asked to see every alert; a new period starts folded again.
let expanded = false;

export async function load(api, view) {
  expanded = false;
  const [open, here, goals] = await Promise.all([
    api.all('/api/alerts?state=open&pageSize=50'),
    api.get(`/api/alerts?${query({ grain: view.grain, period: view.period, pageSize: 50 })}`),
    unlessFailed(api.get('/api/goals')),
  ]);
  const ids = new Set(here.items.map(a => a.id));
  return { alerts: [...here.items, ...open.filter(a => !ids.has(a.id))], goals: goals ?? [] };
}

const worst = { critical: 0, warning: 1, info: 2 };

/** Whether the reporting context says an alert's period is over (a period it does not list counts as over). */
function periodOver(alert, context) {
  const entry = context?.grains.find(g => g.grain === alert.data?.grain)?.periods.find(p => p.key === alert.data?.period);
  return entry ? entry.closed !== false : true;
}

/** Every alert the panel lists, in its order. */
export function latest(items, view, context) {
  const here = a => a.data?.grain === view.grain && a.data?.period === view.period ? 0 : 1;
  const open = a => a.state === 'resolved' ? 1 : 0;
  const over = a => periodOver(a, context) ? 1 : 0;
  const severity = a => worst[a.data?.severity] ?? 3;
  return items.filter(a => a.data?.kind !== 'resolved')
    .sort((a, b) => here(a) - here(b) || open(a) - open(b) || over(a) - over(b) || severity(a) - severity(b) || (b.time ?? '').localeCompare(a.time ?? ''));
}

/** The alerts on screen: the first few, or every one once the reader asked for all. */
export function visible(items, view, context) {
  const list = latest(items, view, context);
  return expanded ? list : list.slice(0, shown);
}

/** Whether an alert is about a composite goal (scope goal:<id>), which has no figure of its own on the page. */
export const aboutGoal = alert => (alert.data?.scope ?? '').startsWith('goal:');

/**
 * The view an alert is about, in the page's language. An alert about a composite goal opens the
 * period at the organisation, where the goals panel shows the goal and its parts.
 */
export function viewOf(alert, lang) {
  const d = alert.data ?? {};
  const goal = aboutGoal(alert);
  return { lang, grain: d.grain, period: d.period, scope: goal ? 'org' : d.scope, indicator: goal ? undefined : d.indicator };
}

/** The panel an alert's link brings into view: the goals for a composite goal's alert, else the trend of its figure. */
export const panelOf = alert => aboutGoal(alert) ? 'goals' : 'trend';

/** An alert's scope for people: a goal by its name in the page's language (by its id if the app has no such goal). */
function scopeOf(alert, goals, words) {
  const scope = alert.data?.scope ?? 'org';
  const goal = aboutGoal(alert) ? goals.find(g => `goal:${g.goalId}` === scope) : null;
  return goal ? nameIn(goal, words.lang) : words.scopeName(scope);
}

export function render(body, data, view, words, context, actions) {
  const { alerts: items, goals } = data;
  const all = latest(items, view, context);
  if (all.length === 0) {
    show(body, h('p', { class: 'empty' }, words.t('noAlerts')));
    return;
  }
  const list = expanded ? all : all.slice(0, shown);
  show(body,
    h('p', { class: 'alert-count muted small' }, words.t(list.length < all.length ? 'alertsShown' : all.length === 1 ? 'alertCount' : 'alertsCount', { shown: words.number(list.length, 0), count: words.number(all.length, 0) })),
    renderList(list, goals, view, words, actions),
    all.length > shown ? renderToggle(body, data, all.length, view, words, context, actions) : null);
}

/** "Show all N" while folded, "Show fewer" once open; keeps focus on itself across the redraw. */
function renderToggle(body, data, count, view, words, context, actions) {
  return h('button', { type: 'button', class: 'link-button alert-toggle', 'aria-expanded': String(expanded),
    onclick: () => {
      expanded = !expanded;
      render(body, data, view, words, context, actions);
      body.querySelector('.alert-toggle')?.focus();
    } },
  expanded ? words.t('showFewerAlerts') : words.t('showAllAlerts', { count: words.number(count, 0) }));
}

function renderList(list, goals, view, words, actions) {
  return h('ul', { class: 'alert-list' }, list.map(alert => {
    const d = alert.data ?? {};
    const scope = scopeOf(alert, goals, words);
    const target = viewOf(alert, view.lang);
    const here = d.grain === view.grain && d.period === view.period;
    const resolved = alert.state === 'resolved';
    return h('li', { class: resolved ? 'alert resolved' : 'alert', dataset: { alert: alert.id, severity: d.severity, state: alert.state ?? 'open' } },
      h('span', { class: 'alert-chips' },
        h('span', { class: `chip severity-${d.severity}` }, words.t(`severities.${d.severity}`)),
        h('span', { class: resolved ? 'chip state-resolved' : 'chip state-open' }, words.t(resolved ? 'resolvedState' : 'openState'))),
      h('div', { class: 'alert-text' },
        h('p', { class: 'alert-message', lang: view.lang }, words.lang === 'fa' ? (d.messageFa ?? d.message) : d.message),
        h('p', { class: 'muted small' },
          `${words.indicatorName(d.indicator)} · ${scope} · ${words.periodName(d.grain, d.period)} · ${words.instant(alert.time)}`,
          here ? ` · ${words.t('thisView')}` : '', ' · ',
          // Every link reads the same; its name says which figure it opens, for those who hear a list of links.
          h('a', { class: 'alert-link', href: viewAddress(target),
            'aria-label': words.t('openFigureOf', { indicator: words.indicatorName(d.indicator), scope, period: words.periodName(d.grain, d.period) }),
            dataset: { grain: target.grain, period: target.period, scope: target.scope, indicator: target.indicator },
            onclick: event => { if (event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey) { event.preventDefault(); actions.navigate(target, panelOf(alert)); } } },
          words.t('openFigure')))));
  }));
}

export function csv(data, view, words, context) {
  return visible(data.alerts, view, context).map(alert => ({
    section: 'alert', indicator: alert.data?.indicator, name: words.lang === 'fa' ? (alert.data?.messageFa ?? alert.data?.message) : alert.data?.message,
    scope: alert.data?.scope, grain: alert.data?.grain, period: alert.data?.period,
    value: alert.data?.value, target: alert.data?.target, attainment: alert.data?.attainment, status: alert.state, severity: alert.data?.severity,
  }));
}
