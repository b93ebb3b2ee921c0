/**
 * Contract tests of the telemetry store: the same simulated points (raw readings and the
 * aggregator's windows, some written twice) go into the embedded SQLite store and into the real
 * InfluxDB; every query the pipeline and the KPI maths use must answer the same on both, and
 * match what was written.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionStore } from '../../engines/influxdb.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { alarmOf, clearedPoint, raisedPoint, stateOf, type AlarmRecord } from '../../shared/store/alarms.ts';
import { readingToPoint } from '../../shared/store/points.ts';
import type { AggregateMeasurement, WindowRow } from '../../shared/kpi/source.ts';
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import { aggregateWindow, type Carry } from '../../services/aggregator/aggregate.ts';
import { aggregatePoint } from '../../services/aggregator/carry-store.ts';
import { WINDOWS, type OpenWindow } from '../../services/aggregator/windows.ts';
import { Kpis } from '../../services/kpi-api/kpis.ts';
import { planDevices } from '../../simulators/fleet-plan.ts';
import { Rng } from '../../simulators/rng.ts';
import { unique } from '../support/services.ts';

const START = Date.UTC(2026, 10, 16, 19, 0); // 21:00 in Athens: the data crosses local midnight
const HOURS = 6;
const STEP = 60_000;
const RULES = { jitterM: 15, movingKmh: 3, speedLimitKmh: 50, maxGapS: 600 };
const DAY = 86_400_000;

/** Readings of a small simulated fleet, and the aggregate windows the aggregator would write for them. */
function dataset() {
  const devices = planDevices({ count: 18, municipalities: ['kalamata', 'petroupoli'], rng: new Rng(31) });
  const raw: StorePoint[] = [];
  const aggregates: StorePoint[] = [];
  const windows: { measurement: AggregateMeasurement; device: string; start: number }[] = [];
  for (const d of devices) {
    const readings: CanonicalReading[] = [];
    for (let ts = START; ts < START + HOURS * 3_600_000; ts += STEP) {
      const values = d.model.next(ts);
      readings.push({ kind: d.kind, deviceId: d.deviceId, municipality: d.municipality, ts, tsFromGateway: false, receivedAt: ts + 50, gatewayId: 'gw', attrs: d.attributes, values } as CanonicalReading);
    }
    raw.push(...readings.map((r) => readingToPoint(r)));
    const { sizeMs, measurement } = WINDOWS[d.kind];
    let carry: Carry | undefined;
    for (let start = START; start < START + HOURS * 3_600_000; start += sizeMs) {
      const inWindow = readings.filter((r) => r.ts >= start && r.ts < start + sizeMs);
      const w: OpenWindow = { kind: d.kind, deviceId: d.deviceId, municipality: d.municipality, attrs: d.attributes, start, end: start + sizeMs, readings: inWindow, newestTs: Infinity, firstOffset: 0 };
      const result = aggregateWindow(w, carry, RULES);
      carry = result.carry;
      aggregates.push(aggregatePoint(w, measurement, result.fields, result.carry));
      windows.push({ measurement: measurement, device: d.deviceId, start });
    }
  }
  return { devices, raw, aggregates, windows };
}

const byDeviceTime = (a: WindowRow, b: WindowRow) => (a.device === b.device ? a.start - b.start : a.device < b.device ? -1 : 1);
const sorted = (rows: WindowRow[]) => [...rows].sort(byDeviceTime);

describe('telemetry store contract: embedded SQLite and InfluxDB answer alike', () => {
  const data = dataset();
  let influx: InfluxTelemetryStore;
  let sqlite: SqliteStore;
  let stores: [string, TelemetryStore][];
  let access: Awaited<ReturnType<typeof provisionStore>>;

  beforeAll(async () => {
    const a = (access = await provisionStore(unique('contract').replace(/-/g, '_')));
    // The contract's reads and writes span both buckets: the operator's token.
    influx = new InfluxTelemetryStore({ ...a, INFLUX_TOKEN: a.operatorToken });
    // Every other chunk of raw points goes gzipped (INFLUX_WRITE_GZIP): the answers must not differ.
    const influxGzip = new InfluxTelemetryStore({ ...a, INFLUX_TOKEN: a.operatorToken, INFLUX_WRITE_GZIP: true });
    sqlite = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'contract-')), 'store.db'));
    stores = [
      ['influxdb', influx],
      ['sqlite', sqlite],
    ];
    for (const [, s] of stores) {
      for (let i = 0; i < data.raw.length; i += 2000) await (s === influx && i % 4000 === 0 ? influxGzip : s).write(data.raw.slice(i, i + 2000));
      await s.write(data.aggregates);
      // A replay writes some points again: nothing may change.
      await s.write(data.raw.filter((_, i) => i % 7 === 0));
      await s.write(data.aggregates.filter((_, i) => i % 3 === 0));
    }
  }, 120_000);
  afterAll(async () => {
    await sqlite?.close();
  });

  it.each(['energy_15m', 'fleet_1h', 'parking_15m'] as const)('%s windows: the same rows in both, one per window written', async (m) => {
    const range = { from: START - DAY, to: START + DAY };
    const [a, b] = await Promise.all(stores.map(([, s]) => s.windows(m, range)));
    expect(sorted(b!)).toEqual(sorted(a!));
    expect(a!.length).toBe(data.windows.filter((w) => w.measurement === m).length);
    expect(a!.every((r) => r.fields.carry === undefined && typeof r.fields.readings === 'number')).toBe(true);
    // One municipality, and a range whose ends fall on window starts: [from, to).
    const cut = { from: START + 3_600_000, to: START + 3 * 3_600_000, municipality: 'petroupoli' };
    const [c, d] = await Promise.all(stores.map(([, s]) => s.windows(m, cut)));
    expect(sorted(d!)).toEqual(sorted(c!));
    expect(c!.length).toBe(data.windows.filter((w) => w.measurement === m && w.device.startsWith('petroupoli') && w.start >= cut.from && w.start < cut.to).length);
    expect(c!.every((r) => r.municipality === 'petroupoli' && r.start >= cut.from && r.start < cut.to)).toBe(true);
  });

  it("last seen: each device's newest reading, per municipality or all", async () => {
    const want = new Map(data.devices.map((d) => [d.deviceId, START + HOURS * 3_600_000 - STEP]));
    for (const [name, s] of stores) {
      const all = await s.lastSeen({ since: START - DAY });
      expect(new Map(all.map((r) => [r.device, r.lastSeen])), name).toEqual(want);
      expect(all.find((r) => r.device === data.devices[0]!.deviceId)?.kind, name).toBe(data.devices[0]!.kind);
      const one = await s.lastSeen({ municipality: 'kalamata', since: START - DAY });
      expect(one.every((r) => r.municipality === 'kalamata') && one.length === data.devices.filter((d) => d.municipality === 'kalamata').length, name).toBe(true);
      expect(await s.lastSeen({ since: START + DAY }), name).toEqual([]);
    }
  });

  it("previous carries: the window before's carry, never the window's own", async () => {
    const energy = data.devices.filter((d) => d.kind === 'energy').map((d) => d.deviceId);
    const at = START + 2 * 3_600_000; // a window start: its own point must not count
    const [a, b] = await Promise.all(stores.map(([, s]) => s.previousCarries('energy_15m', at, energy, 30 * DAY)));
    expect(b).toEqual(a);
    const expected = data.aggregates.find((p) => p.measurement === 'energy_15m' && p.tags.device === energy[0] && p.ts === at - 15 * 60_000)!;
    expect(a!.get(energy[0]!)).toBe(expected.fields.carry);
    // Before the first window there is none.
    expect((await sqlite.previousCarries('energy_15m', START, energy, 30 * DAY)).size).toBe(0);
    expect((await influx.previousCarries('energy_15m', START, energy, 30 * DAY)).size).toBe(0);
  });

  it('alarms: a raise and its clear are one alarm, a replayed raise keeps the clear; by municipality and subject', async () => {
    const alarm = (id: string, municipality: string, subject: string, at: number): Omit<AlarmRecord, 'clearedAt'> => ({ alarmId: id, municipality, subject, ruleId: 'power-high', type: 'threshold', kind: 'energy', severity: 'major', raisedAt: at, evidence: [{ ts: at, values: { power_w: 9000 } }] });
    const a = alarm('a1', 'kalamata', 'meter-1', START + 60_000);
    const b = alarm('b1', 'kalamata', 'meter-2', START + 120_000);
    const c = alarm('c1', 'petroupoli', 'meter-1', START + 180_000);
    for (const [name, s] of stores) {
      await s.write([raisedPoint(a), raisedPoint(b), raisedPoint(c)]);
      await s.write([clearedPoint(a, START + 600_000)]);
      await s.write([raisedPoint(a)]); // a replay of the raise after the clear
      const got = (await s.alarmPoints({ municipality: 'kalamata', from: START - DAY, to: START + DAY })).map(alarmOf);
      expect(got, name).toEqual([{ ...a, clearedAt: START + 600_000 }, b]);
      expect(got.map((x) => stateOf(x!)), name).toEqual(['cleared', 'raised']);
      expect((await s.alarmPoints({ subject: 'meter-1', from: START - DAY, to: START + DAY })).map(alarmOf).map((x) => x?.alarmId), name).toEqual(['a1', 'c1']);
      expect(await s.alarmPoints({ municipality: 'kalamata', from: START + 200_000, to: START + DAY }), name).toEqual([]);
    }
  });

  it('every KPI comes out the same on both stores', async () => {
    const known = data.devices.map((d) => ({ id: d.deviceId, municipality: d.municipality, kind: d.kind }));
    const [ka, kb] = stores.map(([, s]) => new Kpis(s, () => known));
    const range = { from: START - DAY, to: START + DAY, municipality: 'kalamata' };
    for (const by of ['building', 'district', 'municipality'] as const) {
      for (const interval of ['day', 'week', 'month'] as const) expect(await kb!.energy({ ...range, by, interval })).toEqual(await ka!.energy({ ...range, by, interval }));
    }
    const energy = await ka!.energy({ ...range, by: 'municipality', interval: 'day' });
    expect(energy.map((r) => r.period)).toEqual(['2026-11-16', '2026-11-17']);
    const savings = { ...range, from: START + 3 * 3_600_000, baseline: { from: START, to: START + 3 * 3_600_000 }, by: 'building' as const };
    expect(await kb!.savings(savings)).toEqual(await ka!.savings(savings));
    expect(await kb!.fleet(range)).toEqual(await ka!.fleet(range));
    expect((await ka!.fleet(range)).length).toBeGreaterThan(0);
    expect(await kb!.parking(range)).toEqual(await ka!.parking(range));
    const health = { municipality: 'petroupoli', now: START + HOURS * 3_600_000, silentAfterMs: 5 * 60_000, lookbackMs: 2 * DAY };
    expect(await kb!.health(health)).toEqual(await ka!.health(health));
  });

  it("raw retention: a kind's readings before the cut deleted, of one municipality or all; other kinds and the aggregates kept", async () => {
    const at = (days: number) => START - days * DAY;
    const raw = (measurement: string, device: string, ts: number): StorePoint => ({ measurement, tags: { municipality: device.slice(0, 4), device }, fields: { lat: 37, lon: 22 }, ts });
    // The writer deletes with its own token (write on the raw bucket, nothing else).
    const writer = new InfluxTelemetryStore({ ...access, INFLUX_TOKEN: access.tokens.writer! });
    for (const [name, s] of [['influxdb', writer], ['sqlite', sqlite]] as const) {
      const reader = name === 'influxdb' ? influx : sqlite;
      await reader.write([raw('fleet', 'reta-fleet-1', at(40)), raw('fleet', 'reta-fleet-1', at(20)), raw('fleet', 'retb-fleet-1', at(40)), raw('fleet', 'retb-fleet-1', at(20)), { ...raw('energy', 'reta-energy-1', at(40)), fields: { energy_wh: 1 } }, { ...raw('fleet_1h', 'reta-fleet-1', at(40)), fields: { distance_km: 1 } }]);
      const times = async (m: string, d: string) => (await reader.devicePoints(m, d, at(50), START)).map((p) => (START - p.ts) / DAY);
      await s.deleteRaw('fleet', at(30));
      await s.deleteRaw('fleet', at(10), 'retb');
      expect(await times('fleet', 'reta-fleet-1'), name).toEqual([20]);
      expect(await times('fleet', 'retb-fleet-1'), name).toEqual([]);
      expect(await times('energy', 'reta-energy-1'), name).toEqual([40]);
      expect(await times('fleet_1h', 'reta-fleet-1'), name).toEqual([40]);
    }
  });
});
