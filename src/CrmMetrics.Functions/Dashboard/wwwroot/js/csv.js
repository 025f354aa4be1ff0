// The CSV of what is on screen: one row per figure of every panel, invariant numbers (a dot for
// decimals, no grouping) so spreadsheets and scripts read it the same everywhere; RFC 4180 quoting.
// A number is written to 15 significant digits, as many as a double holds exactly: floating-point error
// (a peer mean of 30.799999999999997) is not a digit of the figure.

export const columns = ['section', 'indicator', 'name', 'scope', 'grain', 'period', 'value', 'unit', 'previous', 'target', 'attainment', 'projected', 'status', 'rank', 'stretch', 'severity'];

// Text a spreadsheet would take for a formula (=, +, - or @ first, or a tab or carriage return): names
// come from whoever defined a goal or an indicator, so such a cell gets an apostrophe in front and is
// shown as the text it is. Numbers are written as numbers.
const formula = /^[=+\-@\t\r]/;

export function toCsv(rows) {
  const cell = value => {
    if (value === null || value === undefined) return '';
    let text = typeof value === 'number' ? String(Number(value.toPrecision(15))) : String(value);
    if (typeof value !== 'number' && formula.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.join(','), ...rows.map(row => columns.map(c => cell(row[c])).join(','))].join('\r\n') + '\r\n';
}

export function download(filename, text) {
  // A byte-order mark so Excel opens the Persian names as UTF-8.
  const url = URL.createObjectURL(new Blob(['\uFEFF', text], { type: 'text/csv;charset=utf-8' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
