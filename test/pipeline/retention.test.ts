/**
 * Raw retention per kind on the real Kafka and InfluxDB: readings of six weeks ago go through the
 * whole pipeline; the writer's retention check (with its own token) deletes the vehicles' raw
 * readings — positions are kept 30 days — while the meters' and bays' of the same age stay, and
 * every vehicle's aggregate windows remain.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/gateway.ts';
import { countRaw } from '../support/influx-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { deliveredSeries } from '../support/recompute.ts';
import { readGroundTruth } from '../support/ground-truth.ts';
import { simulate } from '../support/verify.ts';

const DAY = 86_400_000;

describe('raw retention per kind', () => {
  let p: Pipeline | undefined;
  afterAll(async () => {
    await p?.close();
  });

  it("deletes vehicles' raw readings past 30 days, keeps meters' and bays' of the same age, and keeps the vehicles' aggregates", async () => {
    p = await startPipeline({ extraEnv: { RETENTION_CHECK_MS: '1000' } });
    const simStart = Math.floor((Date.now() - 42 * DAY) / 3_600_000) * 3_600_000;
    const summary = await simulate(p, { devices: 12, municipalities: ['kalamata', 'mytilene'], rate: 40, count: 180, simStart, simStepMs: 60_000 });
    expect(summary).toMatchObject({ refused: 0, unacked: 0 });
    const delivered = { energy: 0, fleet: 0, parking: 0 };
    for (const rs of deliveredSeries(readGroundTruth(summary.groundTruthPath)).values()) delivered[rs[0]!.kind] += rs.length;
    expect(delivered.fleet).toBeGreaterThan(0);
    const store = p.store;
    const fleetWindows = async () => (await store.aggregates.query().collectRows<{ _value: number }>(`from(bucket: "${p!.aggBucket}") |> range(start: 0) |> filter(fn: (r) => r._measurement == "fleet_1h" and r._field == "distance_km") |> group() |> count()`));
    await waitUntil(async () => (await countRaw(store, 'energy')) === delivered.energy && (await countRaw(store, 'parking')) === delivered.parking, 90_000, "the meters' and bays' readings stored");
    await waitUntil(async () => ((await fleetWindows())[0]?._value ?? 0) >= 2 * 3, 90_000, "the vehicles' windows written"); // 4 vehicles × 3 hours, the last may stay open
    await waitUntil(async () => (await countRaw(store, 'fleet')) === 0, 30_000, "the vehicles' raw readings deleted");
    await new Promise((r) => setTimeout(r, 2500)); // two more checks: what is kept stays kept
    expect([await countRaw(store, 'energy'), await countRaw(store, 'parking'), await countRaw(store, 'fleet')]).toEqual([delivered.energy, delivered.parking, 0]);
    const windows = (await fleetWindows())[0]!._value;
    expect(windows).toBeGreaterThanOrEqual(6);
    console.info(`[retention] ${delivered.fleet} vehicle readings of 42 days ago deleted, ${windows} of their hourly windows kept; ${delivered.energy + delivered.parking} meter and bay readings of the same age kept`);
  }, 240_000);
});
