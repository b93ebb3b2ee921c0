/**
 * Access and erasure on `npm start`'s engines — the embedded store and log, real SQLite files —
 * where even a device's dead letters can be deleted: after an erasure a second look finds nothing,
 * and another device's data is untouched.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteBus } from '../../shared/embedded/sqlite-bus.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { raisedPoint } from '../../shared/store/alarms.ts';
import { AlarmNotes } from '../kpi-api/alarm-notes.ts';
import { collect, countsOf, erase, type RequestDeps } from './requests.ts';

const T = Date.UTC(2026, 11, 1, 10, 0);
const TOPIC = 'telemetry.deadletter';

describe('privacy requests on the embedded engines', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it('exports a device’s registry entry, readings, windows, alarms with notes and dead letters; erasure removes them all and nothing of another device', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'privacy-'));
    const store = new SqliteStore(join(dir, 'store.db'));
    const bus = new SqliteBus(join(dir, 'bus.db'));
    open.push(store, bus);
    await bus.ensureTopics([{ topic: TOPIC, partitions: 2 }]);
    const registry = new DeviceRegistry(join(dir, 'devices.json'));
    for (const id of ['van-1', 'van-2']) await registry.add({ municipality: 'kalamata', kind: 'fleet', deviceId: id }, { vehicleType: 'van' });
    const point = (measurement: string, device: string, ts: number) => ({ measurement, tags: { municipality: 'kalamata', device }, fields: { lat: 37, lon: 22 }, ts });
    await store.write([point('fleet', 'van-1', T), point('fleet', 'van-1', T + 60_000), point('fleet', 'van-2', T), { ...point('fleet_1h', 'van-1', T), fields: { distance_km: 3 } }]);
    await store.write([raisedPoint({ alarmId: 'a1', municipality: 'kalamata', subject: 'van-1', ruleId: 'idling', type: 'idling', kind: 'fleet', severity: 'minor', raisedAt: T, evidence: [] })]);
    const producer = await bus.producer();
    await producer.send(TOPIC, [{ key: 'van-1', value: JSON.stringify({ deviceId: 'van-1', reason: 'x' }) }, { key: 'van-2', value: JSON.stringify({ deviceId: 'van-2', reason: 'y' }) }]);
    const notes = new AlarmNotes(join(dir, 'alarm-notes.json'));
    notes.comment('kalamata', 'a1', 'k1', new Date(T), 'driver on a break');
    const deps: RequestDeps = { store, bus, deadLetterTopic: TOPIC, registry, notes, auditPath: join(dir, 'privacy-requests.jsonl') };

    const held = await collect(deps, 'van-1');
    expect(countsOf(held)).toEqual({ registry: 1, raw: 2, aggregates: 1, alarms: 1, deadLetters: 1 });
    expect(held.registry).not.toHaveProperty('secretHash');
    expect(held.alarms[0]!.notes?.comments.map((c) => c.text)).toEqual(['driver on a break']);

    const r = await erase(deps, 'van-1', 'cli:test');
    expect(r.removed).toEqual({ registry: 1, raw: 2, aggregates: 1, alarms: 1, deadLetters: 1 });
    expect(r.remaining).toEqual({ registry: 0, raw: 0, aggregates: 0, alarms: 0, deadLetters: 0 });
    expect(notes.get('a1')).toBeUndefined();
    expect(countsOf(await collect(deps, 'van-2'))).toEqual({ registry: 1, raw: 1, aggregates: 0, alarms: 0, deadLetters: 1 });
    expect(readFileSync(deps.auditPath, 'utf8')).toMatch(/"action":"erase","device":"van-1","by":"cli:test"/);
  });
});
