import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './sqlite.ts';
import { SqliteStore } from './sqlite-store.ts';

const tableSql = (path: string) => {
  const db = openDatabase(path);
  const sql = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'points'").get()?.sql;
  db.close();
  return sql;
};

describe('the embedded store layout', () => {
  it('moves a store of the first layout (keyed series first) to time first, keeping its points, and still merges a rewrite', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'store-schema-')), 'store.db');
    const old = openDatabase(path);
    old.exec(`
      CREATE TABLE points (
        measurement TEXT NOT NULL, series TEXT NOT NULL, ts INTEGER NOT NULL, municipality TEXT NOT NULL,
        device TEXT NOT NULL, tags TEXT NOT NULL, fields TEXT NOT NULL,
        PRIMARY KEY (measurement, series, ts)
      ) WITHOUT ROWID;
      CREATE INDEX points_by_municipality ON points (measurement, municipality, ts);
      CREATE INDEX points_by_device ON points (measurement, device, ts);
      INSERT INTO points VALUES ('energy', 'device=m1,municipality=kalamata', 1000, 'kalamata', 'm1', '{"device":"m1","municipality":"kalamata"}', '{"energy_wh":1}');
      INSERT INTO points VALUES ('energy', 'device=m2,municipality=kalamata', 1000, 'kalamata', 'm2', '{"device":"m2","municipality":"kalamata"}', '{"energy_wh":2}');
    `);
    old.close();

    const store = new SqliteStore(path);
    await store.write([{ measurement: 'energy', tags: { municipality: 'kalamata', device: 'm1' }, fields: { power_w: 5 }, ts: 1000 }]);
    expect(store.points('energy').map((p) => [p.tags.device, p.fields])).toEqual([
      ['m1', { energy_wh: 1, power_w: 5 }],
      ['m2', { energy_wh: 2 }],
    ]);
    expect(await store.devicePoints('energy', 'm2', 0, 2000)).toHaveLength(1);
    await store.close();
    expect(tableSql(path)).toMatch(/PRIMARY KEY \(measurement, ts, series\)/);

    // Opened again: already in the new layout, nothing to move.
    const again = new SqliteStore(path);
    expect(again.count('energy')).toBe(2);
    await again.close();
  });
});
