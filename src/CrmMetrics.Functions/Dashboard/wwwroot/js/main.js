// The executive scorecard: reads the view from the address, the key from the session (or ?code=),
// asks the reader API for each panel's figures and shows them in English or Persian. Panels reload
// only when what they show changed; a language switch or another scope redraws from what is loaded.
import { Api, ApiError } from './api.js';
import { h, show } from './dom.js';
import { channels, Words } from './i18n.js';
import { readView, takeKey, writeView } from './view.js';
import { download, toCsv } from './csv.js';
import * as tiles from './panels/tiles.js';
import * as goals from './panels/goals.js';
import * as trend from './panels/trend.js';
import * as staff from './panels/staff.js';
import * as benchmarks from './panels/benchmarks.js';
import * as alerts from './panels/alerts.js';

const panels = { tiles, goals, trend, staff, benchmarks, alerts };

// What each panel's figures depend on: it asks the API again only when one of these changes.
const dependsOn = {
  tiles: v => [v.grain, v.period, v.previous, v.scope],
  goals: v => [v.grain, v.period],
  trend: v => [v.grain, v.period, v.scope, v.indicator],
  staff: v => [v.grain, v.period],
  benchmarks: v => [v.grain, v.period],
  alerts: v => [v.grain, v.period],
};

const api = new Api();
const $ = id => document.getElementById(id);
const state = { view: readView(location), context: null, words: null, data: {}, loads: {}, keyMessage: null, notice: null };
state.words = new Words(state.view.lang, null);

const actions = {
  showTrend: (indicator, scope) => navigate({ ...state.view, indicator, scope: scope ?? state.view.scope }, { focus: 'trend' }),
  /** Shows a view and brings the panel named <code>focus</code> (trend, goals) into view. */
  navigate: (view, focus) => navigate(view, { focus }),
  openStatement,
};

start();

async function start() {
  wireControls();
  applyLanguage();
  const key = takeKey(location, history);
  if (key !== null) api.key = key;
  if (!api.key) return askForKey('keyMissing');
  await openScorecard();
}

async function openScorecard({ fromKeyForm = false } = {}) {
  $('key-gate').hidden = true;
  pointSkipLink();
  // Until the reporting context arrives nothing else can be shown: say that it is on its way.
  showNotice(words => words.t('opening'));
  try {
    state.context = await api.get('/api/reporting-context');
  } catch (error) {
    return failedToOpen(error);
  }
  hideNotice();
  state.view = complete(state.view);
  const landing = Boolean(state.view.indicator);
  state.words = new Words(state.view.lang, state.context);
  writeView(state.view, history, location, true);
  applyLanguage();
  for (const id of ['main', 'view', 'refresh', 'change-key']) $(id).hidden = false;
  pointSkipLink();
  reportIgnored(state.view);
  const loaded = update(null);
  // Opened from an alert's link (or any link naming an indicator): go to that figure, and again once the
  // panels above it have their figures (until then the page is too short to scroll it into view).
  if (landing) {
    goToPanel('trend');
    const view = state.view;
    await Promise.allSettled(['tiles', 'goals', 'trend'].map(name => loaded[name]));
    // Unless the reader has moved on meanwhile (another view, or focus elsewhere).
    if (state.view === view && document.activeElement === $('trend')) goToPanel('trend');
  } else if (fromKeyForm) {
    $('main').focus({ preventScroll: true });
  }
}

/** Asks again for everything: periods a run computed since, and every panel's figures (304s where nothing changed). */
async function refresh() {
  api.forget();
  try {
    state.context = await api.get('/api/reporting-context');
  } catch (error) {
    return failedToOpen(error);
  }
  state.view = complete(state.view);
  renderControls();
  update(null);
}

function failedToOpen(error) {
  if (error instanceof ApiError && error.isKeyProblem) {
    hideNotice();
    api.key = null;
    return askForKey(error.status === 403 ? 'keyForbidden' : 'keyWrong');
  }
  showNotice(words => error.status === 0 ? words.t('unreachable') : words.t('failed', { detail: error.message }), openScorecard);
}

/**
 * Fills in what the address left out (the default grain and period, the organisation, the previous
 * period) and leaves out what the scorecard does not have: a grain, period, scope or indicator it does
 * not know. What was left out is listed in <code>ignored</code>, so the page can say so.
 */
function complete(view) {
  const context = state.context;
  const ignored = [];
  const named = context.grains.find(g => g.grain === view.grain);
  if (view.grain && !named) ignored.push(view.grain);
  // A period alone names its grain by its key (2026-Q3, 2026-W10, 2026), as the API reads it.
  const grain = named ?? (view.period && context.grains.find(g => g.periods.some(p => p.key === view.period)))
    ?? context.grains.find(g => g.grain === context.defaultGrain);
  let period = view.period && grain.periods.some(p => p.key === view.period) ? view.period : null;
  if (view.period && !period) ignored.push(view.period);
  period ??= grain.default;
  const at = grain.periods.findIndex(p => p.key === period);
  const [kind, ...rest] = (view.scope ?? '').split(':');
  const value = rest.join(':');
  const known = view.scope === 'org' || (['channel', 'segment', 'region', 'staff'].includes(kind) && value.length > 0 && [...value].length <= 128
    && !/[\u0000-\u001f\u007f-\u009f]/.test(value) && (kind !== 'channel' || channels.includes(value)));
  // A benchmark alert's link names a competitor: its figures are the organisation's benchmarks.
  if (view.scope && !known && kind !== 'competitor') ignored.push(view.scope);
  // Benchmark figures (bench.gap.cx.nps, …) are indicators of the API though not listed in the catalog.
  const indicator = view.indicator && (context.indicators.some(i => i.id === view.indicator) || /^bench\.[a-z0-9.-]+$/.test(view.indicator)) ? view.indicator : null;
  if (view.indicator && !indicator) ignored.push(view.indicator);
  return {
    lang: view.lang === 'fa' ? 'fa' : 'en', grain: grain.grain, period, scope: known ? view.scope : 'org', indicator,
    previous: at > 0 ? grain.periods[at - 1].key : null, ignored,
  };
}

/** Says which parts of the address the page left out, and what it shows instead. */
function reportIgnored(view) {
  if (view.ignored.length === 0) {
    // A notice about an earlier link goes once the view is another.
    if (state.linkNotice && state.notice === state.linkNotice) hideNotice();
    state.linkNotice = null;
    return;
  }
  state.linkNotice = showNotice(words => words.t('linkIgnored', { parts: view.ignored.map(p => `“${p}”`).join(', '), period: words.periodName(view.grain, view.period) }));
}

function navigate(next, { focus = null, replace = false } = {}) {
  const before = state.view;
  state.view = complete(next);
  reportIgnored(state.view);
  if (state.view.lang !== before.lang) {
    state.words = new Words(state.view.lang, state.context);
    applyLanguage();
  }
  writeView(state.view, history, location, replace);
  renderControls();
  update(before);
  if (focus) goToPanel(focus);
}

/** Scrolls a panel to the top of the window, below the sticky view controls (its scroll margin, in the CSS), and focuses it. */
function goToPanel(id) {
  const section = $(id);
  document.documentElement.style.setProperty('--controls-height', `${$('view').offsetHeight}px`);
  section.scrollIntoView({ block: 'start' });
  section.focus({ preventScroll: true });
}

/** Loads the panels whose figures changed and redraws the others from what they have; the loads, by panel. */
function update(before) {
  const loads = {};
  for (const name of Object.keys(panels)) {
    const changed = !before || dependsOn[name](before).join('|') !== dependsOn[name](state.view).join('|');
    if (changed || !(name in state.data)) loads[name] = load(name);
    else draw(name);
  }
  renderExport();
  return loads;
}

async function load(name) {
  const body = $(name).querySelector('.panel-body');
  const token = {};
  state.loads[name] = token;
  delete state.data[name];
  // The tiles' note (when their figures were computed) belongs to figures on screen: none until these arrive.
  if (name === 'tiles') drawTilesNote();
  body.setAttribute('aria-busy', 'true');
  // Answers already at hand arrive at once; only a real wait shows "Loading…".
  const waiting = setTimeout(() => show(body, h('p', { class: 'loading' }, state.words.t('loading'))), 150);
  try {
    const data = await panels[name].load(api, state.view, state.context);
    if (state.loads[name] !== token) return;
    state.data[name] = data;
    draw(name);
  } catch (error) {
    if (state.loads[name] !== token) return;
    if (error instanceof ApiError && error.isKeyProblem) {
      api.key = null;
      askForKey(error.status === 403 ? 'keyForbidden' : 'keyWrong');
      return;
    }
    show(body, h('div', { class: 'error', role: 'alert' },
      h('p', {}, error.status === 0 ? state.words.t('unreachable') : state.words.t('failed', { detail: error.message })),
      h('button', { type: 'button', onclick: () => load(name) }, state.words.t('tryAgain'))));
  } finally {
    clearTimeout(waiting);
    if (state.loads[name] === token) body.removeAttribute('aria-busy');
  }
}

function draw(name) {
  const body = $(name).querySelector('.panel-body');
  panels[name].render(body, state.data[name], state.view, state.words, state.context, actions);
  if (name === 'tiles') drawTilesNote();
}

/** When the tiles' figures were computed, and whether facts arrived since; nothing while they have none loaded. */
function drawTilesNote() {
  const computed = state.data.tiles?.current.map(r => r.computedAt).sort().at(-1);
  const entry = state.context.grains.find(g => g.grain === state.view.grain)?.periods.find(p => p.key === state.view.period);
  $('tiles-note').textContent = !computed ? ''
    : state.words.t('computedAt', { time: state.words.instant(computed) }) + (entry?.stale ? ` · ${state.words.t('staleNote')}` : '');
  $('tiles-note').classList.toggle('stale', Boolean(computed && entry?.stale));
}

function wireControls() {
  $('grain').addEventListener('change', e => navigate({ ...state.view, grain: e.target.value, period: null }));
  $('period').addEventListener('change', e => navigate({ ...state.view, period: e.target.value }));
  $('scope').addEventListener('change', e => navigate({ ...state.view, scope: e.target.value }));
  $('indicator').addEventListener('change', e => navigate({ ...state.view, indicator: e.target.value }));
  $('view').addEventListener('submit', e => e.preventDefault());
  $('language').addEventListener('click', () => {
    const lang = state.view.lang === 'fa' ? 'en' : 'fa';
    if (state.context) navigate({ ...state.view, lang }, { replace: true });
    else {
      state.view = { ...state.view, lang };
      state.words = new Words(lang, null);
      applyLanguage();
    }
  });
  $('refresh').addEventListener('click', refresh);
  $('change-key').addEventListener('click', () => askForKey(null));
  $('key-form').addEventListener('submit', e => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    $('key-input').value = '';
    // Spaces are no key: say one is needed rather than send an empty one and report it refused.
    if (!key) return askForKey('keyMissing');
    api.key = key;
    openScorecard({ fromKeyForm: true });
  });
  $('key-cancel').addEventListener('click', returnToScorecard);
  $('key-gate').addEventListener('keydown', e => { if (e.key === 'Escape' && !$('key-cancel').hidden) returnToScorecard(); });
  $('statement-close').addEventListener('click', () => $('statement').close());
  $('download-csv').addEventListener('click', downloadCsv);
  $('copy-odata').addEventListener('click', copyOData);
  addEventListener('popstate', () => {
    if (!state.context) return;
    const next = readView(location);
    navigate({ ...next, lang: next.lang }, { replace: true });
  });
}

function applyLanguage() {
  const words = state.words;
  const root = document.documentElement;
  root.lang = words.lang;
  root.dir = words.rtl ? 'rtl' : 'ltr';
  document.title = `CrmMetrics · ${words.t('title')}`;
  for (const element of document.querySelectorAll('[data-text]')) element.textContent = words.t(element.dataset.text);
  for (const element of document.querySelectorAll('[data-aria-label]')) element.setAttribute('aria-label', words.t(element.dataset.ariaLabel));
  const language = $('language');
  language.textContent = words.lang === 'fa' ? 'English' : 'فارسی';
  language.lang = words.lang === 'fa' ? 'en' : 'fa';
  if (state.keyMessage) $('key-message').textContent = words.t(state.keyMessage);
  if (state.notice) drawNotice();
  const context = state.context;
  $('subtitle').textContent = context
    ? words.t('subtitle', { deployment: context.deployment, calendar: words.t(`calendarNames.${context.calendarKind}`), currency: context.currency, timeZone: context.timeZone })
    : '';
  if (context) {
    renderControls();
    for (const name of Object.keys(state.data)) draw(name);
    renderExport();
  }
}

function renderControls() {
  const { view, words, context } = state;
  const option = (value, label, selected) => h('option', { value, selected: value === selected }, label);
  show($('grain'), context.grains.map(g => option(g.grain, g.name[words.lang], view.grain)));

  const grain = context.grains.find(g => g.grain === view.grain);
  const listed = grain.periods.filter(p => p.computed || p.key === grain.current || p.key === view.period || p.key === grain.default);
  if (!listed.some(p => p.key === view.period)) listed.push({ key: view.period, label: { en: view.period, fa: view.period }, computed: false });
  // A period whose figures were computed under another calendar has figures, just none served under its key: say which.
  const note = p => !p.computed ? words.t(p.calendarChange ? 'otherCalendar' : 'noFigures') : p.stale ? words.t('outOfDate') : null;
  const label = p => note(p) ? `${p.label[words.lang]} ${note(p)}` : p.label[words.lang];
  show($('period'), listed.slice().reverse().map(p => option(p.key, label(p), view.period)));

  const scopes = context.scopes.includes(view.scope) ? context.scopes : [...context.scopes, view.scope];
  const kinds = ['org', 'channel', 'segment', 'region', 'staff'];
  show($('scope'), kinds.map(kind => {
    const members = scopes.filter(s => s.split(':')[0] === kind);
    if (members.length === 0) return null;
    if (kind === 'org') return members.map(s => option(s, words.scopeLabel(s), view.scope));
    return h('optgroup', { label: words.t(`scopeKinds.${kind}`) }, members.map(s => option(s, words.scopeLabel(s), view.scope)));
  }));

  const indicator = view.indicator ?? trend.defaultIndicator;
  const families = [...new Set(context.indicators.map(i => i.family))].filter(f => f !== 'goal-attainment');
  show($('indicator'), families.map(family => h('optgroup', { label: words.t(`families.${family}`) },
    context.indicators.filter(i => i.family === family).map(i => option(i.id, i.name[words.lang], indicator)))));
}

function askForKey(message) {
  state.keyMessage = message;
  for (const id of ['main', 'view', 'refresh']) $(id).hidden = true;
  $('change-key').hidden = true;
  $('key-gate').hidden = false;
  $('key-message').textContent = message ? state.words.t(message) : '';
  $('key-message').hidden = !message;
  // Asked for another key while one is held (Change key), the reader may keep it and go back to the figures.
  $('key-cancel').hidden = !(api.key && state.context);
  pointSkipLink();
  $('key-input').focus();
}

/** Leaves the key form for the figures on screen, under the key already held: nothing is asked again. */
function returnToScorecard() {
  state.keyMessage = null;
  $('key-input').value = '';
  $('key-gate').hidden = true;
  for (const id of ['main', 'view', 'refresh', 'change-key']) $(id).hidden = false;
  pointSkipLink();
  $('change-key').focus();
}

/**
 * Points the skip link at the main landmark on screen, the figures or the key form (found by probing: on the key page
 * it led to the hidden figures), and offers it only while one is: not while the scorecard opens.
 */
function pointSkipLink() {
  const target = ['main', 'key-gate'].find(id => !$(id).hidden);
  const skip = $('skip');
  skip.hidden = !target;
  if (!target) return;
  skip.href = `#${target}`;
  skip.dataset.text = target === 'main' ? 'skip' : 'skipToKey';
  skip.textContent = state.words.t(skip.dataset.text);
}

/**
 * Shows a notice above the panels: <code>message</code> is a function of the page's words, so that a
 * language switch redraws it in the other language. Returns the notice, to tell later whether it is still shown.
 */
function showNotice(message, retry) {
  state.notice = { message, retry };
  drawNotice();
  return state.notice;
}

function drawNotice() {
  const { message, retry } = state.notice;
  show($('notice'), h('p', {}, message(state.words)), retry ? h('button', { type: 'button', onclick: retry }, state.words.t('tryAgain')) : null);
  $('notice').hidden = false;
}

function hideNotice() {
  state.notice = null;
  $('notice').hidden = true;
}

async function openStatement(staffId, invoker) {
  const { view, words } = state;
  const dialog = $('statement');
  const body = dialog.querySelector('.dialog-body');
  $('statement-title').textContent = words.t('statementTitle', { staff: staffId, period: words.periodName(view.grain, view.period) });
  show(body, h('p', { class: 'loading' }, words.t('loading')));
  dialog.addEventListener('close', () => invoker?.focus(), { once: true });
  dialog.showModal();
  try {
    staff.renderStatement(body, await staff.loadStatement(api, view, staffId), view, words, state.context);
  } catch (error) {
    if (error instanceof ApiError && error.isKeyProblem) {
      dialog.close();
      api.key = null;
      askForKey(error.status === 403 ? 'keyForbidden' : 'keyWrong');
      return;
    }
    show(body, h('p', { class: 'error', role: 'alert' }, error.status === 0 ? words.t('unreachable') : words.t('failed', { detail: error.message })));
  }
}

function odataAddress() {
  const filter = `grain eq '${state.view.grain}' and period eq '${state.view.period}'`;
  return { shown: `${location.origin}/odata/Snapshots?$filter=${filter}`, encoded: `${location.origin}/odata/Snapshots?$filter=${encodeURIComponent(filter)}` };
}

function renderExport() {
  if (!state.context) return;
  $('odata-url').textContent = odataAddress().shown;
}

function downloadCsv() {
  const { view, words, context } = state;
  const rows = Object.entries(panels).flatMap(([name, panel]) => name in state.data ? panel.csv(state.data[name], view, words, context) : []);
  download(`crm-metrics-${view.grain}-${view.period}-${view.scope.replace(/[^A-Za-z0-9.-]+/g, '-')}.csv`, toCsv(rows));
}

async function copyOData() {
  const address = `${odataAddress().encoded}&code=${encodeURIComponent(api.key ?? '')}`;
  try {
    await navigator.clipboard.writeText(address);
    const notice = showNotice(words => words.t('copied'));
    // A confirmation, not something to dismiss: it goes by itself.
    setTimeout(() => { if (state.notice === notice) hideNotice(); }, 4000);
  } catch {
    // Without clipboard access (a page not served over HTTPS or localhost): show it to copy by hand.
    showNotice(() => address);
  }
}
