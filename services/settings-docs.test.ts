import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENGINE_SETTINGS } from '#shared/engines.ts';
import { CATALOGUE } from './catalogue.ts';
import { DOCUMENTED_SETTINGS, GENERATED_BLOCKS } from './settings-docs.ts';
import { replaceBetween, replaceSettingsTable, settingRows } from '#shared/docs/settings-table.ts';

describe('settings documentation', () => {
  it.each(DOCUMENTED_SETTINGS.map((d) => [d.readme, d]))('%s: its settings table is the one generated from the schema (npm run docs)', (_readme, d) => {
    const markdown = readFileSync(d.readme, 'utf8');
    expect(replaceSettingsTable(markdown, d.id, d.shape)).toBe(markdown);
  });

  it.each(GENERATED_BLOCKS.map((b) => [b.file, b]))('%s: its generated part is what the code generates now (npm run docs)', (_file, b) => {
    const markdown = readFileSync(b.file, 'utf8');
    expect(replaceBetween(markdown, b.begin, b.end, b.content())).toBe(markdown);
  });

  it.each(DOCUMENTED_SETTINGS.map((d) => [d.id, d]))('%s: every setting says what it is for', (_id, d) => {
    expect(settingRows(d.shape).filter((r) => r.description.length < 8).map((r) => r.name)).toEqual([]);
  });

  it("no stage's settings are an engine's: those belong to the engine adapters and are documented once (docs/real-engines.md)", () => {
    const engine = new Set(Object.values(ENGINE_SETTINGS).flatMap((shape) => Object.keys(shape)));
    expect(engine.has('KAFKA_BROKERS') && engine.has('INFLUX_URL')).toBe(true);
    expect(CATALOGUE.flatMap((s) => Object.keys(s.env).filter((k) => engine.has(k)).map((k) => `${s.name}: ${k}`))).toEqual([]);
  });
});
