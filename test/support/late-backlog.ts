/**
 * Late data as a municipality's energy manager meets it, run the same way on each engine pair
 * (test/pipeline/late-data.test.ts): while live devices publish on the same partition,
 *   - a meter uploads three days it buffered, in order, one reading a minute, 10 to a message,
 *     with the aggregation killed with SIGKILL halfway and started again: each day's kWh and
 *     peak demand equal the hand computation, every window a recomputation of what it sent,
 *     nothing is dead-lettered, and a live device's readings are stored as promptly meanwhile;
 *   - a meter silent for six hours whose counter then jumps: the day's kWh is the counter's rise
 *     over the day, and when the missing readings arrive later no figure changes.
 */
import { expect } from 'vitest';
import { settledAggregates } from './compare.ts';
import { publishReadings, energySeries, type EnergyReadingOut } from './energy-series.ts';
import { expectedEnergy } from './recompute.ts';
import type { GroundTruthLine } from '../../simulators/runner.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const QUARTER_HOURS_PER_HOUR = 4;

/** What a scenario needs of an engine pair running the whole pipeline with live devices on it. */
export interface LateDataHarness {
  /** Which engines, for the log lines. */
  name: string;
  mqttUrl(): string;
  /** Registers an energy meter; returns its secret. */
  addMeter(municipality: string, deviceId: string): Promise<string>;
  /** The store's `energy_15m` windows, keyed `${device}@${startMs}`, without the carry. */
  energyWindows(): Promise<Map<string, Record<string, number>>>;
  /** Whether the raw reading of `device` at `ts` is stored. */
  rawStored(device: string, ts: number): Promise<boolean>;
  /** Dead letters about `device`. */
  deadLetters(device: string): Promise<unknown[]>;
  /** Kills what aggregates (the aggregator, or the whole `npm start`) with SIGKILL, and starts it again. */
  killAggregationAndRestart(): Promise<void>;
}

/**
 * A meter's buffered days, hand-made so the figures are known without the pipeline's maths: 1.2 kW
 * all day but for one hour at 2.4 kW (10:00 on the first day, 11:00 on the next…). A reading's
 * counter is the energy drawn up to its minute, so a day's windows add up to the counter's rise
 * from the previous day's last reading: 23 h × 1.2 kW + 1 h × 2.4 kW = 30.0 kWh, and the peak
 * quarter hour (the KPI's peak demand: its kWh × 4) is 2.4 kW.
 */
function bufferedDays(from: number, days: number, tail: number): EnergyReadingOut[] {
  const out: EnergyReadingOut[] = [];
  let wh = 1_000_000;
  for (let ts = from; ts <= from + days * DAY + tail; ts += MIN) {
    const day = Math.floor((ts - from) / DAY);
    const power_w = Math.floor((ts - from - day * DAY) / HOUR) === 10 + day ? 2400 : 1200;
    out.push({ ts, energy_wh: Math.round(wh * 1000) / 1000, power_w });
    wh += power_w / 60;
  }
  return out;
}

const truthOf = (device: string, municipality: string, out: EnergyReadingOut[]): GroundTruthLine[] =>
  out.map((r, i) => ({ deviceId: device, municipality, kind: 'energy', seq: i, ts: r.ts, trueTs: r.ts, reading: r, fault: null, status: 'acked' }));

/** A day's kWh and peak demand from a meter's windows, as the energy KPI computes them. */
export function dayFigures(windows: Map<string, Record<string, number>>, device: string, dayStart: number): { kwh: number; peakKw: number } {
  let kwh = 0;
  let peakKw = 0;
  for (const [key, f] of windows) {
    const [d, start] = key.split('@');
    if (d !== device || Number(start) < dayStart || Number(start) >= dayStart + DAY) continue;
    kwh += f.energy_kwh ?? 0;
    peakKw = Math.max(peakKw, (f.energy_kwh ?? 0) * QUARTER_HOURS_PER_HOUR);
  }
  return { kwh, peakKw };
}

/**
 * A live device's readings, one every `everyMs`, each timed from its PUBACK until the store shows
 * it: the lag live devices see while the backlog is absorbed.
 */
export function probeLiveLag(h: LateDataHarness, device: { id: string; secret: string; municipality: string }, everyMs = 200): { stop: (atLeast?: number) => Promise<number[]> } {
  const lags: number[] = [];
  let running = true;
  let enough = 0;
  const run = (async () => {
    const { default: mqtt } = await import('mqtt');
    const c = await mqtt.connectAsync(h.mqttUrl(), { clientId: device.id, username: device.id, password: device.secret, reconnectPeriod: 0 });
    let wh = 0;
    while (running || lags.length < enough) {
      const ts = Date.now();
      wh += 1;
      await c.publishAsync(`city/${device.municipality}/energy/${device.id}/telemetry`, JSON.stringify({ ts, energy_wh: wh, power_w: 60 }), { qos: 1 });
      const acked = Date.now();
      while (!(await h.rawStored(device.id, ts))) {
        if (Date.now() - acked > 30_000) throw new Error(`the live reading of ${new Date(ts).toISOString()} was not stored within 30 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      lags.push(Date.now() - acked);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    await c.endAsync();
  })();
  return {
    /** Stops once `atLeast` lags are measured. */
    stop: async (atLeast = 0) => {
      enough = atLeast;
      running = false;
      await run;
      return lags;
    },
  };
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? NaN;

export async function threeDayBacklog(h: LateDataHarness): Promise<void> {
  const municipality = 'orestiada';
  const meter = { id: 'ore-backlog-meter', municipality, secret: await h.addMeter(municipality, 'ore-backlog-meter') };
  const probe = { id: 'ore-live-probe', municipality, secret: await h.addMeter(municipality, 'ore-live-probe') };
  const firstDay = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
  // Ten minutes into today as well: the meter's own progress then closes its last window of the third day.
  const backlog = bufferedDays(firstDay, 3, 10 * MIN);
  const half = Math.floor(backlog.length / 20) * 10;

  const t0 = Date.now();
  const lagBefore = probeLiveLag(h, probe);
  await publishReadings(h.mqttUrl(), meter, backlog.slice(0, half), 10);
  // Killed as soon as the first half is acknowledged: the aggregation is still at work on it.
  const lags = await lagBefore.stop();
  const windowsAtKill = [...(await h.energyWindows()).keys()].filter((k) => k.startsWith(`${meter.id}@`)).length;
  await h.killAggregationAndRestart();
  const lagAfter = probeLiveLag(h, probe);
  await publishReadings(h.mqttUrl(), meter, backlog.slice(half), 10);

  const expected = expectedEnergy(new Map([[meter.id, truthOf(meter.id, municipality, backlog)]]));
  for (const key of [...expected.keys()]) if (Number(key.split('@')[1]) >= firstDay + 3 * DAY) expected.delete(key); // today's, still open
  const got = await settledAggregates(() => h.energyWindows(), expected, 'energy_15m', 180_000);
  const settledS = (Date.now() - t0) / 1000;
  lags.push(...(await lagAfter.stop(Math.max(0, 30 - lags.length))));
  const dead = await h.deadLetters(meter.id);

  expect(got.size).toBe(3 * 96);
  const days = [0, 1, 2].map((d) => dayFigures(got, meter.id, firstDay + d * DAY));
  console.log(
    `[late backlog, ${h.name}] 3 days (${backlog.length} readings in ${Math.ceil(backlog.length / 10)} messages) uploaded with live devices on the partition, aggregation killed with SIGKILL halfway (${windowsAtKill} of 288 windows written then): ` +
      `${days.map((x) => `${x.kwh.toFixed(2)} kWh / ${x.peakKw.toFixed(2)} kW`).join(', ')} (hand: 30.00 / 2.40 each); all windows right after ${settledS.toFixed(0)} s; ` +
      `dead letters ${dead.length}; a live device's readings stored within p99 ${p99(lags)} ms (max ${Math.max(...lags)}, ${lags.length} samples)`,
  );
  for (const x of days) {
    expect(Math.abs(x.kwh - 30) / 30).toBeLessThan(0.005);
    expect(Math.abs(x.peakKw - 2.4) / 2.4).toBeLessThan(0.005);
  }
  expect(dead).toEqual([]);
  expect(lags.length).toBeGreaterThanOrEqual(30);
  expect(p99(lags)).toBeLessThan(2000);
}

export async function counterGap(h: LateDataHarness): Promise<void> {
  const municipality = 'orestiada';
  const meter = { id: 'ore-gap-meter', municipality, secret: await h.addMeter(municipality, 'ore-gap-meter') };
  const dayStart = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  // Into the next day by ten minutes, so the meter's own progress closes the day's last window.
  const all = energySeries(meter.id, municipality, dayStart, dayStart + DAY + 10 * MIN, 7);
  const silent = (r: { ts: number }) => r.ts >= dayStart + 8 * HOUR && r.ts < dayStart + 14 * HOUR;
  const inDay = (key: string) => Number(key.split('@')[1]) < dayStart + DAY;
  const counterAt = (ts: number) => all.out.find((r) => r.ts === ts)!.energy_wh;
  const truthKwh = (counterAt(dayStart + DAY - MIN) - counterAt(dayStart)) / 1000;

  await publishReadings(h.mqttUrl(), meter, all.out.filter((r) => !silent(r)), 10);
  const withGap = expectedEnergy(new Map([[meter.id, all.truth.filter((t) => !silent(t))]]));
  for (const key of [...withGap.keys()]) if (!inDay(key)) withGap.delete(key);
  const before = dayFigures(await settledAggregates(() => h.energyWindows(), withGap, 'energy_15m', 120_000), meter.id, dayStart);
  // The six hours arrive later (the meter's buffer, or its network server's).
  await publishReadings(h.mqttUrl(), meter, all.out.filter(silent), 10);
  const full = expectedEnergy(new Map([[meter.id, all.truth]]));
  for (const key of [...full.keys()]) if (!inDay(key)) full.delete(key);
  const after = dayFigures(await settledAggregates(() => h.energyWindows(), full, 'energy_15m', 120_000), meter.id, dayStart);
  console.log(`[counter gap, ${h.name}] day with 6 silent hours: ${before.kwh.toFixed(2)} kWh; after the missing readings: ${after.kwh.toFixed(2)} kWh; the counter rose ${truthKwh.toFixed(2)}`);
  expect(Math.abs(before.kwh - truthKwh)).toBeLessThan(truthKwh * 0.005);
  expect(Math.abs(after.kwh - before.kwh)).toBeLessThan(1e-6);
  expect(await h.deadLetters(meter.id)).toEqual([]);
}
