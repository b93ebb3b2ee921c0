/**
 * End to end on the real engines: simulator → MQTT gateway → Kafka → normaliser → writer and
 * aggregator → InfluxDB. Every delivered reading is exactly one raw point, and every aggregate
 * equals an independent recomputation from the simulator's ground truth.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFaults } from '../../simulators/faults.ts';
import { runSimulation, simulationDefaults, type SimulationSummary } from '../../simulators/runner.ts';
import { expectAggregatesEqual } from '../support/compare.ts';
import { waitUntil } from '../support/gateway.ts';
import { readGroundTruth } from '../support/ground-truth.ts';
import { countRaw, readPoints } from '../support/influx-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { deliveredSeries, expectedEnergy, expectedFleet, expectedParking } from '../support/recompute.ts';

describe('pipeline end to end', () => {
  let p: Pipeline;
  let summary: SimulationSummary;
  let series: ReturnType<typeof deliveredSeries>;

  beforeAll(async () => {
    p = await startPipeline();
    summary = await runSimulation({
      ...simulationDefaults(),
      mqttUrl: p.gw.url,
      devices: 24,
      rate: 40,
      count: 150,
      batch: 2,
      seed: 2026,
      simStart: Date.UTC(2026, 10, 16, 5, 0), // a Monday morning: lights off, schools opening
      simStepMs: 30_000,
      // Re-sent and swapped messages must not change any number.
      faults: { ...defaultFaults(), enabled: new Set(['duplicates', 'out-of-order']), rate: 0.03 },
      registryPath: p.gw.registryPath,
      secretsPath: join(p.env.DATA_DIR!, 'sim-secrets.json'),
      groundTruthPath: join(p.env.DATA_DIR!, 'truth.jsonl'),
    });
    series = deliveredSeries(readGroundTruth(summary.groundTruthPath));
  });
  afterAll(() => p.close());

  it('lands exactly one raw point per delivered reading', async () => {
    expect(summary).toMatchObject({ refused: 0, unacked: 0 });
    const want = { energy: 0, fleet: 0, parking: 0 };
    for (const rs of series.values()) want[rs[0]!.kind] += rs.length;
    expect(want.energy + want.fleet + want.parking).toBe(24 * 150 * 2);
    let got = { energy: 0, fleet: 0, parking: 0 };
    await waitUntil(
      async () => {
        got = { energy: await countRaw(p.store, 'energy'), fleet: await countRaw(p.store, 'fleet'), parking: await countRaw(p.store, 'parking') };
        return got.energy + got.fleet + got.parking >= 24 * 300;
      },
      60_000,
      'raw points',
    ).catch(() => undefined);
    expect(got).toEqual(want);
  });

  it('computes energy, fleet and parking aggregates equal to a recomputation from the ground truth', async () => {
    const energy = expectedEnergy(series);
    const fleet = expectedFleet(series);
    const parking = expectedParking(series);
    await waitUntil(async () => (await readPoints(p.store, 'parking_15m')).size >= parking.size && (await readPoints(p.store, 'fleet_1h')).size >= fleet.size && (await readPoints(p.store, 'energy_15m')).size >= energy.size, 60_000, 'aggregates').catch(() => undefined);
    expectAggregatesEqual(await readPoints(p.store, 'energy_15m'), energy, 'energy_15m');
    expectAggregatesEqual(await readPoints(p.store, 'fleet_1h'), fleet, 'fleet_1h');
    expectAggregatesEqual(await readPoints(p.store, 'parking_15m'), parking, 'parking_15m');
    // The numbers are not trivially zero: the simulated town did something.
    const total = (e: Map<string, Record<string, number>>, f: string) => [...e.values()].reduce((s, v) => s + v[f]!, 0);
    expect(total(energy, 'energy_kwh')).toBeGreaterThan(10);
    expect(total(fleet, 'distance_km')).toBeGreaterThan(5);
    expect(total(parking, 'occupied_s')).toBeGreaterThan(0);
    console.info(`[e2e] energy ${total(energy, 'energy_kwh').toFixed(1)} kWh in ${energy.size} windows, fleet ${total(fleet, 'distance_km').toFixed(1)} km in ${fleet.size} windows, parking ${parking.size} windows`);
  });
});
