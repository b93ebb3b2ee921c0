/**
 * Rows of flat objects → RFC 4180 CSV (header from the first row's keys). Text that a spreadsheet
 * would run as a formula (`=`, `+`, `-`, `@`, tab, CR first: a device id or attribute such as
 * `=HYPERLINK(…)`) is prefixed with `'`, as OWASP advises; numbers are written as numbers.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function toCsv(rows: object[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number | boolean | null | undefined) => {
    const raw = v === null || v === undefined ? '' : String(v);
    const s = typeof v === 'string' && FORMULA_START.test(raw) ? `'${raw}` : raw;
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell((r as Record<string, string | number | boolean | null>)[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
