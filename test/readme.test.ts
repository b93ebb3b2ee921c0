/**
 * The README is a front door, not a diary: short, no dated run or commit hash in its prose
 * (measurements and history live in docs/), the two commands present, and every link it gives
 * leads to a file of the repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
/** The prose: fenced blocks (sample output of a command may show dates) left out. */
const prose = (md: string) => md.replace(/^```[\s\S]*?^```/gm, '');
const datesIn = (text: string) => text.match(/\b20\d\d-[01]\d-[0-3]\d\b/g) ?? [];
const hashesIn = (text: string) => (text.match(/\b[0-9a-f]{7,40}\b/g) ?? []).filter((w) => /[a-f]/.test(w) && /\d/.test(w));

describe('README', () => {
  it('is about 200–250 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('has no dated run or commit hash in its prose', () => {
    expect(datesIn(prose(readme))).toEqual([]);
    expect(hashesIn(prose(readme))).toEqual([]);
  });

  it('finds them when they are there (the check is not blind)', () => {
    const diary = 'Measured on 2026-12-06 at 64e563f:\n```\n2026-11-25 | gym-2\n```\n';
    expect(datesIn(prose(diary))).toEqual(['2026-12-06']);
    expect(hashesIn(prose(diary))).toEqual(['64e563f']);
  });

  it('gives the two commands, and links only to files that exist', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThanOrEqual(5);
    expect(links.filter((l) => !existsSync(join(root, l)))).toEqual([]);
  });
});
