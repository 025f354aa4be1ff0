// What is on screen, as the address says it: lang, grain, period, scope, indicator. Every change is
// written back to the address, so a view can be bookmarked, sent, and opened from an alert's link.

const names = ['lang', 'grain', 'period', 'scope', 'indicator'];
const languageKey = 'crm-metrics.lang';

export function readView(location) {
  const parameters = new URLSearchParams(location.search);
  const view = {};
  for (const name of names) view[name] = parameters.get(name) || null;
  view.lang ??= localStorage.getItem(languageKey) ?? (navigator.language?.toLowerCase().startsWith('fa') ? 'fa' : 'en');
  if (view.lang !== 'fa') view.lang = 'en';
  return view;
}

/** The key a link brought (?code=), taken out of the address so it is not bookmarked, shared or kept in history. */
export function takeKey(location, history) {
  const url = new URL(location.href);
  const key = url.searchParams.get('code');
  if (key === null) return null;
  url.searchParams.delete('code');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  return key;
}

/** The address of a view on this page. */
export function viewAddress(view, pathname = '/dashboard') {
  const parameters = new URLSearchParams();
  for (const name of names) if (view[name]) parameters.set(name, view[name]);
  return `${pathname}?${parameters}`;
}

export function writeView(view, history, location, replace = false) {
  localStorage.setItem(languageKey, view.lang);
  const address = viewAddress(view, location.pathname);
  if (address === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', address);
  else history.pushState(null, '', address);
}
