// Builds DOM from data without ever parsing text as HTML: every string becomes a text node, so
// figures, names and messages from the API cannot inject markup.

/** h('td', { class: 'num', dataset: { value: 1 } }, 'text', child, [more]) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what an element shows. */
export function show(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A table with a header row and body rows (arrays of cells: strings, nodes or { node, class }). */
export function table(caption, headers, rows, attributes = {}) {
  const cell = (tag, value) => value && typeof value === 'object' && !(value instanceof Node) && 'content' in value
    ? h(tag, { class: value.class, scope: tag === 'th' ? value.scope : undefined }, value.content)
    : h(tag, {}, value);
  // The wrapper scrolls a wide table at phone width: a tab stop of its own, so the keyboard scrolls it too.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || null },
    h('table', attributes,
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', {}, h('tr', {}, headers.map(x => cell('th', typeof x === 'object' && x && 'content' in x ? { scope: 'col', ...x } : { content: x, scope: 'col' })))),
      h('tbody', {}, rows.map(row => row instanceof Node ? row : h('tr', {}, row.map(x => cell('td', x)))))));
}
