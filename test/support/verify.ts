/** The pipeline's two promises, checked against the ground truth: every reading once, every aggregate right. */
import { join } from 'node:path';
import { expect } from 'vitest';
import { defaultFaults, type Fault } from '../../simulators/faults.ts';
import { runSimulation, simulationDefaults, type SimulationOptions, type SimulationSummary } from '../../simulators/runner.ts';
import { aggregatesSettle } from './compare.ts';
import { waitUntil } from './gateway.ts';
import { readGroundTruth } from './ground-truth.ts';
import { countRaw, readPoints } from './influx-read.ts';
import type { Pipeline } from './pipeline.ts';
import { deliveredSeries, expectedEnergy, expectedFleet, expectedParking } from './recompute.ts';

export function simulate(p: Pipeline, over: Partial<SimulationOptions> & { faultList?: Fault[] } = {}): Promise<SimulationSummary> {
  const { faultList, ...rest } = over;
  return runSimulation({
    ...simulationDefaults(),
    mqttUrl: p.gw.url,
    devices: 12,
    rate: 20,
    count: 150,
    seed: 11,
    simStart: Date.UTC(2026, 10, 18, 6, 0),
    simStepMs: 30_000,
    drainTimeoutMs: 120_000,
    faults: { ...defaultFaults(), enabled: new Set(faultList ?? []), rate: 0.03 },
    registryPath: p.gw.registryPath,
    secretsPath: join(p.env.DATA_DIR!, 'sim-secrets.json'),
    groundTruthPath: join(p.env.DATA_DIR!, `truth-${rest.seed ?? 11}.jsonl`),
    ...rest,
  });
}

/** Waits until the pipeline has caught up, then: raw points = delivered readings, aggregates = recomputation. */
export async function expectMatchesTruth(p: Pipeline, summary: SimulationSummary, timeoutMs = 90_000) {
  const series = deliveredSeries(readGroundTruth(summary.groundTruthPath));
  const want = { energy: 0, fleet: 0, parking: 0 };
  for (const rs of series.values()) want[rs[0]!.kind] += rs.length;
  const expected = { energy_15m: expectedEnergy(series), fleet_1h: expectedFleet(series), parking_15m: expectedParking(series) };
  let got = { energy: -1, fleet: -1, parking: -1 };
  const aggregatesSettled = async () => {
    for (const [m, exp] of Object.entries(expected)) if ((await readPoints(p.store, m)).size < exp.size) return false;
    return true;
  };
  await waitUntil(
    async () => {
      got = { energy: await countRaw(p.store, 'energy'), fleet: await countRaw(p.store, 'fleet'), parking: await countRaw(p.store, 'parking') };
      return got.energy === want.energy && got.fleet === want.fleet && got.parking === want.parking && (await aggregatesSettled());
    },
    timeoutMs,
    'the pipeline to catch up',
  ).catch(() => undefined);
  if (got.energy !== want.energy || got.fleet !== want.fleet || got.parking !== want.parking) console.error(`[pipeline] did not catch up: ${await flowReport(p)}`);
  expect(got, 'raw points per measurement').toEqual(want);
  // Windows close on idleness at the end of a run, and a replayed one is rewritten identically: read until they settle.
  for (const [m, exp] of Object.entries(expected)) await aggregatesSettle(() => readPoints(p.store, m), exp, m, 30_000);
  return { readings: want.energy + want.fleet + want.parking, windows: Object.values(expected).reduce((s, e) => s + e.size, 0) };
}

/** Where the flow stands: each topic's end offsets and each worker group's committed offsets, per partition. */
export async function flowReport(p: Pipeline): Promise<string> {
  const admin = p.kafka.admin();
  await admin.connect();
  try {
    const ends = async (t: string) => (await admin.fetchTopicOffsets(t)).sort((a, b) => a.partition - b.partition).map((o) => o.high).join('/');
    const committed = async (g: string, t: string) =>
      (await admin.fetchOffsets({ groupId: g, topics: [t] }))[0]!.partitions.sort((a, b) => a.partition - b.partition).map((o) => o.offset).join('/');
    const raw = p.env.TOPIC_RAW!;
    const normalized = p.env.TOPIC_NORMALIZED!;
    return `raw ends ${await ends(raw)}, normalized ends ${await ends(normalized)}; committed: normalizer ${await committed(p.env.NORMALIZER_GROUP!, raw)}, writer ${await committed(p.env.WRITER_GROUP!, normalized)}, aggregator ${await committed(p.env.AGGREGATOR_GROUP!, normalized)}; gateway forwarding ${p.gw.gateway.forwarder.direct ? 'directly' : 'from its spool'}`;
  } finally {
    await admin.disconnect();
  }
}
