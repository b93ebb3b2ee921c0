import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENGINE_SETTINGS } from '#shared/engines.ts';
import { CATALOGUE } from './catalogue.ts';
import { DOC_PARTS, DOCUMENTED_SETTINGS } from './settings-docs.ts';
import { settingRows } from '#shared/docs/settings-table.ts';

describe('settings documentation', () => {
  it.each(DOC_PARTS.map((p) => [`${p.file} ${p.what}`, p]))('%s: is what the code generates now (npm run docs)', (_name, p) => {
    const markdown = readFileSync(p.file, 'utf8');
    expect(p.rewrite(markdown)).toBe(markdown);
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
