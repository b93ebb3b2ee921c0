import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { rawRetentionDays, rawRetentionEnv, retentionCuts } from './retention.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6);
const parse = (env: Record<string, string>) => z.object(rawRetentionEnv).safeParse(env);

describe('raw retention per kind and municipality', () => {
  it('defaults: positions a month, the rest the raw store’s 90 days; only what is shorter than the store is cut', () => {
    const cfg = parse({}).data!;
    expect([rawRetentionDays(cfg, 'fleet', 'kalamata'), rawRetentionDays(cfg, 'energy', 'kalamata'), rawRetentionDays(cfg, 'parking', 'kalamata')]).toEqual([30, 90, 90]);
    expect(retentionCuts(cfg, NOW)).toEqual([{ kind: 'fleet', before: NOW - 30 * DAY }]);
  });

  it('a municipality keeps a kind shorter, never longer', () => {
    const cfg = parse({ RAW_RETENTION_OVERRIDES: '{"kalamata": {"fleet": 14, "energy": 60}, "mytilene": {"fleet": 60}}' }).data!;
    expect(rawRetentionDays(cfg, 'fleet', 'kalamata')).toBe(14);
    expect(rawRetentionDays(cfg, 'fleet', 'mytilene')).toBe(30); // longer than the kind's: the kind's
    expect(rawRetentionDays(cfg, 'energy', 'kalamata')).toBe(60);
    expect(retentionCuts(cfg, NOW)).toEqual([
      { kind: 'energy', municipality: 'kalamata', before: NOW - 60 * DAY },
      { kind: 'fleet', before: NOW - 30 * DAY },
      { kind: 'fleet', municipality: 'kalamata', before: NOW - 14 * DAY },
    ]);
  });

  it('a wrong setting is refused naming what is wrong', () => {
    expect(parse({ RAW_RETENTION_DAYS_FLEET: '120' }).error?.issues[0]?.path).toEqual(['RAW_RETENTION_DAYS_FLEET']);
    expect(parse({ RAW_RETENTION_OVERRIDES: '{"kalamata": {"boats": 3}}' }).error?.issues[0]?.message).toMatch(/^kalamata: .*boats/);
    expect(parse({ RAW_RETENTION_OVERRIDES: '{"kalamata": {"fleet": 0}}' }).error?.issues[0]?.message).toMatch(/^kalamata\.fleet: /);
    // Never shorter than the bus keeps every reading: the raw retention would be a promise not kept.
    expect(parse({ RAW_RETENTION_OVERRIDES: '{"kalamata": {"fleet": 3}}' }).error?.issues[0]?.message).toBe('kalamata.fleet: at least 7 days: the bus keeps every reading that long');
    expect(parse({ RAW_RETENTION_DAYS_FLEET: '6' }).error?.issues[0]?.path).toEqual(['RAW_RETENTION_DAYS_FLEET']);
    expect(parse({ RAW_RETENTION_OVERRIDES: '{"kalamata": {"fleet": 7}}' }).success).toBe(true);
    expect(parse({ RAW_RETENTION_OVERRIDES: '{' }).error?.issues[0]?.message).toMatch(/^not JSON \(/);
  });

  it('for any overrides text: settings or a refusal, never a throw; cuts never longer than a kind keeps', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.dictionary(fc.constantFrom('kalamata', 'Bad Town', 'x'), fc.dictionary(fc.constantFrom('fleet', 'energy', 'parking', 'boats'), fc.integer({ min: -5, max: 200 }))).map((o) => JSON.stringify(o))), (text) => {
        const r = parse({ RAW_RETENTION_OVERRIDES: text });
        if (!r.success) return;
        for (const c of retentionCuts(r.data, NOW)) expect(c.before).toBeGreaterThanOrEqual(NOW - 90 * DAY);
      }),
    );
  });
});
