import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { applyRetention } from './node.ts';

const DAY = 86_400_000;

describe('embedded store retention', () => {
  it('drops raw points after RAW_RETENTION_DAYS and aggregates after AGG_RETENTION_DAYS, nothing newer', async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'retention-')), 'store.db'));
    const now = Date.UTC(2026, 10, 25);
    const tags = { municipality: 'kalamata', device: 'm1' };
    await store.write([
      { measurement: 'energy', tags, fields: { energy_wh: 1 }, ts: now - 100 * DAY },
      { measurement: 'energy', tags, fields: { energy_wh: 2 }, ts: now - 10 * DAY },
      { measurement: 'energy_15m', tags, fields: { energy_kwh: 1 }, ts: now - 100 * DAY },
      { measurement: 'energy_15m', tags, fields: { energy_kwh: 1 }, ts: now - 2000 * DAY },
    ]);
    expect(applyRetention(store, { RAW_RETENTION_DAYS: 90, AGG_RETENTION_DAYS: 1825 }, now)).toBe(2);
    expect(store.points('energy').map((p) => p.fields.energy_wh)).toEqual([2]);
    expect(store.points('energy_15m').map((p) => p.ts)).toEqual([now - 100 * DAY]);
    expect(applyRetention(store, { RAW_RETENTION_DAYS: 90, AGG_RETENTION_DAYS: 1825 }, now)).toBe(0);
    await store.close();
  });
});
