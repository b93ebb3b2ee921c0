/**
 * `npm start` in its embedded mode (no Kafka, no InfluxDB) killed with SIGKILL in the middle of a
 * stream and started again: no reading it acknowledged is missing, nothing unknown appears, and
 * every aggregate equals a recomputation from the readings it stored. Real MQTT, real processes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReadOnly } from '../../shared/embedded/sqlite.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { runSimulation, simulationDefaults, type GroundTruthLine } from '../../simulators/runner.ts';
import { aggregatesSettle } from '../support/compare.ts';
import { waitUntil } from '../support/gateway.ts';
import { readGroundTruth } from '../support/ground-truth.ts';
import { deliveredSeries, expectedEnergy, expectedFleet, expectedParking } from '../support/recompute.ts';
import { freePort } from '../support/services.ts';
import { spawnScript, type Spawned } from '../support/spawn.ts';

const UP = 'Smart-city pipeline running';
const key = (device: string, ts: number) => `${device}@${ts}`;

function storedFields(store: SqliteStore, measurement: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const p of store.points(measurement)) {
    const fields: Record<string, number> = {};
    for (const [k, v] of Object.entries(p.fields)) if (typeof v === 'number') fields[k] = v;
    out.set(key(p.tags.device!, p.ts), fields);
  }
  return out;
}

describe('npm start (embedded) killed with SIGKILL mid-stream', () => {
  let node: Spawned | undefined;
  afterAll(() => {
    node?.child.kill('SIGKILL');
  });

  it('loses no acknowledged reading and rebuilds the aggregates after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embedded-kill-'));
    const mqttPort = await freePort();
    const args = ['start.ts', '--no-simulate', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(await freePort())];
    // The simulated clock runs 1200× faster than the wall clock (a reading per simulated minute,
    // 20 per second), so an outage of a few seconds reorders a device's resent readings by up to
    // an hour and a half of simulated time: the watermark waits three simulated hours.
    const env = { OPS_PORT_BASE: '0', IDLE_CLOSE_MS: '2000', WATERMARK_DELAY_MS: String(3 * 3_600_000), LOG_LEVEL: 'info' };
    const start = () => spawnScript('npm start', args, env, (l) => l.includes(UP), ['KAFKA_BROKERS', 'INFLUX_URL']);
    node = await start();
    expect(node.log()).toContain(`embedded log ${join(dir, 'bus.db')}`);

    let acked = 0;
    const run = runSimulation({
      ...simulationDefaults(),
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      devices: 12,
      municipalities: ['kalamata', 'orestiada'],
      rate: 20,
      count: 240,
      seed: 17,
      simStart: Date.UTC(2026, 10, 19, 6, 0),
      simStepMs: 60_000,
      drainTimeoutMs: 90_000,
      registryPath: join(dir, 'devices.json'),
      secretsPath: join(dir, 'sim-secrets.json'),
      groundTruthPath: join(dir, 'truth.jsonl'),
      onProgress: (p) => (acked = p.acked),
    });
    await waitUntil(() => acked >= 1000, 60_000, 'a third of the readings acknowledged');
    node.child.kill('SIGKILL');
    await new Promise((r) => node!.child.once('exit', r));
    const ackedBeforeKill = acked;
    node = await start();
    const summary = await run;
    expect(summary.acked).toBeGreaterThan(ackedBeforeKill);

    const truth = readGroundTruth(summary.groundTruthPath);
    const ackedKeys = new Set(truth.filter((t) => t.status === 'acked').map((t) => key(t.deviceId, t.ts)));
    const sentKeys = new Set(truth.map((t) => key(t.deviceId, t.ts)));
    const store = new SqliteStore(join(dir, 'store.db'));
    const raw = () => new Set(['energy', 'fleet', 'parking'].flatMap((m) => store.points(m).map((p) => key(p.tags.device!, p.ts))));
    await waitUntil(() => [...ackedKeys].every((k) => raw().has(k)), 60_000, 'every acknowledged reading stored').catch(() => undefined);
    const stored = raw();
    const missing = [...ackedKeys].filter((k) => !stored.has(k));
    expect(missing, 'acknowledged readings missing after kill -9').toEqual([]);
    expect([...stored].filter((k) => !sentKeys.has(k)), 'stored readings nobody sent').toEqual([]);

    // The aggregates must equal a recomputation from exactly the readings that were stored.
    const storedTruth = truth.map((t): GroundTruthLine => ({ ...t, status: stored.has(key(t.deviceId, t.ts)) ? 'acked' : 'unacked' }));
    const series = deliveredSeries(storedTruth);
    const expected = { energy_15m: expectedEnergy(series), fleet_1h: expectedFleet(series), parking_15m: expectedParking(series) };
    // The last windows close on idleness, and one rewritten on replay settles identically: a moment
    // for a wrong rewrite to show, then read until they all hold their values.
    await new Promise((r) => setTimeout(r, 3000));
    for (const [m, e] of Object.entries(expected)) await aggregatesSettle(() => storedFields(store, m), e, m, 60_000);
    const bus = openReadOnly(join(dir, 'bus.db'));
    const deadLetters = bus.prepare("SELECT COUNT(*) AS n FROM records WHERE topic = 'telemetry.deadletter'").get() as { n: number };
    bus.close();
    expect(deadLetters.n, 'nothing was dead-lettered (as late or otherwise)').toBe(0);
    console.info(`[embedded kill -9] ${ackedKeys.size} acknowledged (${ackedBeforeKill} before the kill), ${stored.size} stored, 0 missing; ${Object.values(expected).reduce((s, e) => s + e.size, 0)} windows equal to the recomputation`);
    await store.close();
    node.child.kill('SIGTERM');
  }, 180_000); // ~55 s alone; more on a loaded machine
});
