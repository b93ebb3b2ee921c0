import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';

describe('toCsv', () => {
  it('neutralises text a spreadsheet would run as a formula, keeps numbers as numbers', () => {
    const csv = toCsv([{ device: '=HYPERLINK("http://x","y")', lot: '+1', district: '@SUM(A1)', kwh: -3.5, note: '-x' }]);
    expect(csv).toBe(`device,lot,district,kwh,note\r\n"'=HYPERLINK(""http://x"",""y"")",'+1,'@SUM(A1),-3.5,'-x\r\n`);
  });

  it('never throws and never lets a text cell start with a formula character (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ a: fc.string(), b: fc.oneof(fc.double(), fc.string(), fc.constant(null)), c: fc.boolean() }), { minLength: 1, maxLength: 5 }), (rows) => {
        const lines = toCsv(rows).split('\r\n');
        expect(lines.length).toBeGreaterThanOrEqual(rows.length + 1);
        for (const r of rows) {
          if (/^[=+\-@\t\r]/.test(r.a)) expect(toCsv([{ a: r.a }]).split('\r\n')[1]).toMatch(/^"?'/);
        }
      }),
    );
  });
});
