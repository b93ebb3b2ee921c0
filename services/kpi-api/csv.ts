/** Rows of flat objects → RFC 4180 CSV (header from the first row's keys). */
export function toCsv(rows: object[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number | boolean | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell((r as Record<string, string | number | boolean | null>)[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
