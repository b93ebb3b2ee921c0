/**
 * Access and erasure requests on the real Kafka and InfluxDB, through `npm run privacy` as an
 * operator runs it: after a simulated run (malformed messages included, so there are dead
 * letters) and a vehicle's alarm, `export` finds the vehicle's registry entry, every raw reading
 * it delivered, its windows, its alarm and its dead letters; `erase` removes them from every store
 * and the registry, the dead-letter topic included; a second export finds nothing; another vehicle's data is untouched; both are audited.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { raisedPoint } from '../../shared/store/alarms.ts';
import { readGroundTruth } from '../support/ground-truth.ts';
import { readTopic } from '../support/kafka-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { deliveredSeries } from '../support/recompute.ts';
import { servicesEnv } from '../support/services.ts';
import { expectMatchesTruth, simulate } from '../support/verify.ts';

const run = promisify(execFile);

describe('privacy requests on Kafka and InfluxDB', () => {
  let p: Pipeline | undefined;
  afterAll(async () => {
    await p?.close();
  });

  it("exports everything held about a vehicle, erases it from every store, and a second export finds nothing", async () => {
    p = await startPipeline();
    const summary = await simulate(p, { devices: 12, municipalities: ['kalamata', 'mytilene'], faultList: ['malformed'], seed: 77 });
    await expectMatchesTruth(p, summary);
    const truth = readGroundTruth(summary.groundTruthPath);
    const series = deliveredSeries(truth);
    // The vehicle with the most malformed (dead-lettered) messages, and another one.
    const vehicles = [...series.keys()].filter((d) => d.includes('-fleet-'));
    const malformed = (d: string) => truth.filter((l) => l.deviceId === d && l.fault === 'malformed' && l.status === 'acked').length;
    const [subject, other] = vehicles.sort((a, b) => malformed(b) - malformed(a)) as [string, string];
    expect(malformed(subject)).toBeGreaterThan(0);
    const municipality = series.get(subject)![0]!.municipality;
    await p.storeFor('alarms').write([raisedPoint({ alarmId: 'privacy-a1', municipality, subject, ruleId: 'idling', type: 'idling', kind: 'fleet', severity: 'minor', raisedAt: series.get(subject)![3]!.trueTs, evidence: [{ deviceId: subject, ts: series.get(subject)![3]!.trueTs, values: { lat: 37, lon: 22 } }] })]);

    // An operator's environment: the engines as `npm run services -- status` prints them, this test's buckets and topics.
    const env = { ...process.env, ...servicesEnv(), INFLUX_BUCKET: p.bucket, INFLUX_AGG_BUCKET: p.aggBucket, TOPIC_DEADLETTER: p.env.TOPIC_DEADLETTER!, DATA_DIR: p.env.DATA_DIR!, DEVICE_REGISTRY: p.gw.registryPath, LOG_LEVEL: 'silent' };
    const privacy = async (...args: string[]) => (await run(process.execPath, ['services/privacy/cli.ts', ...args], { env, timeout: 120_000 })).stdout;
    const exported = async (device: string) => {
      const out = join(p!.env.DATA_DIR!, `export-${device}-${Date.now()}.json`);
      await privacy('export', '--device', device, '--out', out);
      return JSON.parse(readFileSync(out, 'utf8')) as { registry: { id: string; secretHash?: string } | null; raw: unknown[]; aggregates: unknown[]; alarms: { alarmId: string }[]; deadLetters: { deviceId?: string }[] };
    };

    const before = await exported(subject);
    expect(before.registry).toMatchObject({ id: subject });
    expect(before.registry!.secretHash).toBeUndefined();
    expect(before.raw).toHaveLength(series.get(subject)!.length);
    expect(before.aggregates.length).toBeGreaterThan(0);
    expect(before.alarms.map((a) => a.alarmId)).toEqual(['privacy-a1']);
    expect(before.deadLetters).toHaveLength(malformed(subject));
    expect(before.deadLetters.every((d) => d.deviceId === subject)).toBe(true);
    const otherBefore = await exported(other);

    const deviceOf = (v: string) => (JSON.parse(v) as { deviceId?: string }).deviceId;
    const byDevice = (values: string[]) => values.reduce((m, v) => m.set(deviceOf(v), [...(m.get(deviceOf(v)) ?? []), v]), new Map<string | undefined, string[]>());
    const topicBefore = (await readTopic(p.kafka, p.env.TOPIC_DEADLETTER!)).map((r) => r.value);
    const said = await privacy('erase', '--device', subject);
    expect(said).toContain(`removed registry entry 1, raw readings ${before.raw.length}, aggregate windows ${before.aggregates.length}, alarms 1 (with their notes), dead letters ${before.deadLetters.length}`);
    const after = await exported(subject);
    expect([after.registry, after.raw.length, after.aggregates.length, after.alarms.length, after.deadLetters.length]).toEqual([null, 0, 0, 0, 0]);
    // Nothing of it is left on the topic, under any key; every other device's dead letters are, each device's in order.
    const onTopic = (await readTopic(p.kafka, p.env.TOPIC_DEADLETTER!)).map((r) => r.value);
    expect(onTopic.filter((v) => v.includes(subject))).toEqual([]);
    const othersBefore = byDevice(topicBefore.filter((v) => deviceOf(v) !== subject));
    expect(othersBefore.size).toBeGreaterThan(1);
    expect(byDevice(onTopic)).toEqual(othersBefore);
    const otherAfter = await exported(other);
    expect([otherAfter.raw.length, otherAfter.aggregates.length, otherAfter.deadLetters.length, otherAfter.registry?.id]).toEqual([otherBefore.raw.length, otherBefore.aggregates.length, otherBefore.deadLetters.length, other]);

    const audit = readFileSync(join(p.env.DATA_DIR!, 'privacy-requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; device: string; by: string });
    expect(audit.map((a) => `${a.action} ${a.device}`)).toEqual([`export ${subject}`, `export ${other}`, `erase ${subject}`, `export ${subject}`, `export ${other}`]);
    expect(audit.every((a) => a.by.startsWith('cli:'))).toBe(true);
    console.info(`[privacy] ${subject}: exported ${before.raw.length} readings, ${before.aggregates.length} windows, 1 alarm, ${before.deadLetters.length} dead letters; erased all, the dead-letter topic included (${onTopic.length} other dead letters kept)`);
  }, 300_000);
});
