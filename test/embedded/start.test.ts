/**
 * `npm start` as a user meets it: one command, nothing else running, the printed address and keys
 * work, the page and API serve data within a minute, and a reading sent with mosquitto_pub using
 * the printed credentials shows up in the API. Also: --help and a bad setting.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openReadOnly } from '../../shared/embedded/sqlite.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { provisionStore } from '../../engines/influxdb.ts';
import { InfluxStore } from '../../shared/influx/client.ts';
import { countRawPoints } from '../../shared/influx/counts.ts';
import { runSimulation, simulationDefaults } from '../../simulators/runner.ts';
import { defaultPseudonymKeysPath, VehiclePseudonyms } from '../../shared/privacy/pseudonyms.ts';
import { waitUntil } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { freePort, servicesEnv, testKafka, unique } from '../support/services.ts';
import { spawnScript, type Spawned } from '../support/spawn.ts';

const run = promisify(execFile);
const startTs = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['start.ts', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });

describe('npm start', () => {
  let node: Spawned | undefined;
  let onEngines: Spawned | undefined;
  afterAll(() => {
    node?.child.kill('SIGTERM');
    onEngines?.child.kill('SIGTERM');
  });

  it('--help lists the options and the environment that switches to Kafka and InfluxDB', () => {
    const r = startTs(['--help']);
    expect(r.status).toBe(0);
    for (const s of ['--no-simulate', '--data-dir', '--devices', '--backfill', 'KAFKA_BROKERS', 'INFLUX_URL']) expect(r.stdout).toContain(s);
  });

  it('stops with one line naming a bad setting', () => {
    const r = startTs(['--no-simulate'], { MQTT_PORT: 'abc', DATA_DIR: mkdtempSync(join(tmpdir(), 'start-bad-')) });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^invalid configuration: MQTT_PORT='abc'/);
    const k = startTs(['--no-simulate'], { INFLUX_URL: 'not a url', DATA_DIR: mkdtempSync(join(tmpdir(), 'start-bad-')) });
    expect(k.status).toBe(2);
    expect(k.stderr).toMatch(/^invalid configuration: INFLUX_URL='not a url'/);
    // A setting of a stage in the second thread (the writer's) stops it the same way.
    const w = startTs(['--no-simulate'], { WRITE_BATCH_MAX: 'abc', OPS_PORT_BASE: '0', DATA_DIR: mkdtempSync(join(tmpdir(), 'start-bad-')) });
    expect(w.status).toBe(2);
    expect(w.stderr.trim().split('\n')).toHaveLength(1);
    expect(w.stderr).toMatch(/^invalid configuration: WRITE_BATCH_MAX='abc'/);
  });

  it('serves the page and KPIs from simulated devices, and a mosquitto_pub reading shows up in the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'));
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    node = await spawnScript('npm start', ['start.ts', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--devices', '12', '--backfill', '2h'], { OPS_PORT_BASE: '0' }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL']);
    const out = node.log();
    expect(out).toContain('embedded log');
    const key = (m: string) => new RegExp(`^\\s+${m}\\s+(sck_\\S+)$`, 'm').exec(out)?.[1];
    const kalamata = key('kalamata')!;
    expect(kalamata).toBeDefined();
    const page = `http://127.0.0.1:${httpPort}`;
    const api = async (path: string, k = kalamata) => {
      const res = await fetch(`${page}/api/v1${path}`, { headers: { authorization: `Bearer ${k}` } });
      return { status: res.status, body: (await res.json()) as { rows: Record<string, unknown>[] } };
    };

    expect(await (await fetch(`${page}/`)).text()).toContain('<canvas id="chart-energy">');
    // Energy, fleet and parking KPIs from the backfilled history (how soon: README, measured, not asserted).
    await waitUntil(async () => (await api('/municipalities/kalamata/energy')).body.rows.length > 0 && (await api('/municipalities/kalamata/mobility/parking')).body.rows.length > 0, 60_000, 'KPIs with data');
    expect((await api('/municipalities/orestiada/energy')).status).toBe(403);
    // The history's incidents raise their alarms, and nothing else does (the simulator's ground truth).
    const expected = (JSON.parse(readFileSync(join(dir, 'simulator', 'ground-truth-backfill.jsonl.alarms.json'), 'utf8')) as { ruleId: string; municipality: string; subject: string }[]).filter((a) => a.municipality === 'kalamata');
    // (Lamps on by day too when the history's hour is daylight in Athens.)
    expect(expected.map((a) => a.ruleId)).toEqual(expect.arrayContaining(['idling', 'power-high']));
    const raisedAlarms = async () => (await api(`/municipalities/kalamata/alarms?from=${Date.now() - 86_400_000}`)).body.rows.map((r) => `${String(r.rule)} ${String(r.subject)}`).sort();
    await waitUntil(async () => (await raisedAlarms()).length >= expected.length, 60_000, "the incidents' alarms");
    // The printed key has no fleet-ops scope: a vehicle's alarm names it by its municipality's pseudonym.
    const pseudonyms = new VehiclePseudonyms(defaultPseudonymKeysPath(dir));
    const named = (subject: string) => (subject.includes('-fleet-') ? pseudonyms.of('kalamata', subject) : subject);
    expect(await raisedAlarms()).toEqual(expected.map((a) => `${a.ruleId} ${named(a.subject)}`).sort());
    expect((await api('/municipalities/orestiada/energy', key('orestiada'))).status).toBe(200);

    // The printed mosquitto_pub line, as a user would paste it.
    const line = /mosquitto_pub (.*) \\\n\s+(-t .*)$/m.exec(out)!;
    const args = `${line[1]} ${line[2]}`.match(/'[^']*'|\S+/g)!.map((a) => a.replace(/^'|'$/g, ''));
    const before = Date.now();
    await run('mosquitto_pub', args, { timeout: 10_000 });
    await waitUntil(
      async () => {
        const row = (await api('/municipalities/kalamata/health')).body.rows.find((r) => r.device === 'kalamata-demo-meter');
        return typeof row?.last_seen === 'string' && Date.parse(row.last_seen) >= before - 1000;
      },
      15_000,
      'the demo reading in the API',
    );
    // After the history, the simulated devices go on live: all of kalamata's are reporting.
    await waitUntil(async () => (await api('/municipalities/kalamata/health?silentMinutes=1')).body.rows.filter((r) => r.silent === false).length >= 4, 60_000, 'live devices reporting');
    // The first-start backfill loses nothing to lateness: readings behind the watermark reopen their windows.
    const bus = openReadOnly(join(dir, 'bus.db'));
    const dead = bus.prepare<[], { value: Buffer }>("SELECT value FROM records WHERE topic = 'telemetry.deadletter'").all().map((r) => (JSON.parse(r.value.toString()) as { reason: string }).reason);
    bus.close();
    expect(dead).toEqual([]);
  });

  it('runs the same stages on the real Kafka and InfluxDB when KAFKA_BROKERS and INFLUX_URL are set', async () => {
    const engines = servicesEnv();
    const id = unique('node');
    const access = await provisionStore(id.replace(/-/g, '_'));
    const dir = mkdtempSync(join(tmpdir(), 'start-engines-'));
    const mqttPort = await freePort();
    const env = {
      OPS_PORT_BASE: '0',
      KAFKA_BROKERS: engines.KAFKA_BROKERS!,
      INFLUX_URL: engines.INFLUX_URL!,
      // One process runs every stage, so it holds the union of their rights: the operator's here.
      INFLUX_TOKEN: access.operatorToken,
      INFLUX_ORG: access.INFLUX_ORG,
      INFLUX_BUCKET: access.INFLUX_BUCKET,
      INFLUX_AGG_BUCKET: access.INFLUX_AGG_BUCKET,
      TOPIC_RAW: `${id}.raw`,
      TOPIC_NORMALIZED: `${id}.normalized`,
      TOPIC_DEADLETTER: `${id}.deadletter`,
      BUS_GROUP_PREFIX: `${id}-`,
    };
    onEngines = await spawnScript('npm start', ['start.ts', '--no-simulate', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(await freePort())], env, (l) => l.includes('Try a device by hand'));
    expect(onEngines.log()).toContain(`bus: Kafka ${engines.KAFKA_BROKERS}; store: InfluxDB ${engines.INFLUX_URL}`);
    const summary = await runSimulation({
      ...simulationDefaults(),
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      devices: 6,
      municipalities: ['mytilene'],
      rate: 20,
      count: 40,
      seed: 3,
      simStart: Date.UTC(2026, 10, 20, 8, 0),
      simStepMs: 60_000,
      registryPath: join(dir, 'devices.json'),
      secretsPath: join(dir, 'sim-secrets.json'),
      groundTruthPath: join(dir, 'truth.jsonl'),
    });
    expect(summary).toMatchObject({ acked: 240, unacked: 0 });
    const store = new InfluxStore({ INFLUX_URL: engines.INFLUX_URL!, INFLUX_TOKEN: access.operatorToken, INFLUX_ORG: access.INFLUX_ORG, INFLUX_BUCKET: access.INFLUX_BUCKET });
    const stored = async () => (await countRawPoints(store, 'energy')) + (await countRawPoints(store, 'fleet')) + (await countRawPoints(store, 'parking'));
    await waitUntil(async () => (await stored()) === 240, 60_000, 'readings in InfluxDB');
    expect(await stored()).toBe(240);
    expect((await readTopic(testKafka(), `${id}.raw`)).length).toBeGreaterThanOrEqual(240);
    // Nothing went to the embedded files.
    expect(existsSync(join(dir, 'bus.db')) || existsSync(join(dir, 'store.db'))).toBe(false);
  });
});
