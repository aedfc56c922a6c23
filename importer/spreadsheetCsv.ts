/**
 * CSV cells that are safe to open in a spreadsheet: a cell beginning with = + - @, a tab or a
 * carriage return could run as a formula, so it is prefixed with an apostrophe; cells are quoted
 * when they hold a delimiter, a quote or a line break.
 */
export function csvCell(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",;\r\n\t]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(cells: readonly (string | number | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
