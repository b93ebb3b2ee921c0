import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCUMENTED_SETTINGS } from './settings-docs.ts';
import { replaceSettingsTable, settingRows } from '#shared/docs/settings-table.ts';

describe('settings documentation', () => {
  it.each(DOCUMENTED_SETTINGS.map((d) => [d.readme, d]))('%s: its settings table is the one generated from the schema (npm run docs)', (_readme, d) => {
    const markdown = readFileSync(d.readme, 'utf8');
    expect(replaceSettingsTable(markdown, d.id, d.shape)).toBe(markdown);
  });

  it.each(DOCUMENTED_SETTINGS.map((d) => [d.id, d]))('%s: every setting says what it is for', (_id, d) => {
    expect(settingRows(d.shape).filter((r) => r.description.length < 8).map((r) => r.name)).toEqual([]);
  });
});
