/**
 * `npm run bench:storm`: a reconnect storm as the field has it. Thousands of registered devices
 * (5,000 by default) are connected from many loopback addresses (127.0.1.x) and publishing; the
 * gateway is restarted (SIGTERM: it drains, then starts again); every device retries as devices
 * do (exponential backoff with jitter) until it is back. Measured on `npm start` and on the
 * gateway of the pipeline on Kafka: how long until every device is back online and has had a
 * reading acknowledged, and whether any acknowledged reading is missing from the store.
 * Writes bench/reports/storm.{md,json}.
 *
 * The devices are registered once (a full scrypt hash each, as `npm run devices` makes them) and
 * the same registry is given to both gateways.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { InfluxStore } from '#shared/influx/client.ts';
import { DeviceRegistry } from '#shared/registry/device-registry.ts';
import { sleep } from '#shared/time.ts';
import { openReadOnly } from '#shared/embedded/sqlite.ts';
import { runSimulation, simulationDefaults, type SimulationSummary } from '../simulators/runner.ts';
import { ensureCredentials } from '../simulators/credentials.ts';
import { planDevices } from '../simulators/fleet-plan.ts';
import { Rng } from '../simulators/rng.ts';
import { serviceEnv, status, up } from '../engines/services.ts';
import { startBenchNpmStart } from './npm-start.ts';
import { startBenchPipeline } from './pipeline-services.ts';

const program = new Command('bench-storm')
  .option('--devices <n>', 'registered devices, all connected', Number, 5000)
  .option('--addresses <n>', 'loopback source addresses they connect from (127.0.1.1 …)', Number, 50)
  .option('--interval <s>', 'seconds between a device’s messages', Number, 5)
  .option('--engines <list>', 'npm-start, kafka, or both', 'npm-start,kafka')
  .parse();
const o = program.opts<{ devices: number; addresses: number; interval: number; engines: string }>();
const log = (s: string) => console.error(`[storm] ${s}`);

const MUNICIPALITIES = ['petroupoli', 'mytilene', 'kalamata', 'orestiada'];
const SEED = 7;
const localAddresses = Array.from({ length: o.addresses }, (_, i) => `127.0.1.${i + 1}`);

interface Storm {
  engine: string;
  devices: number;
  /** From the first connect to every device connected and acknowledged once. */
  firstConnectSec: number;
  /** The restart: SIGTERM sent → the gateway ready again. */
  downSec: number;
  /** From SIGTERM until every device is connected again and has had a reading acknowledged; also from the gateway's ready. */
  allBackSec: number;
  allBackAfterReadySec: number;
  /** Devices back (connected and acknowledged) within 30 s of the SIGTERM. */
  backWithin30s: number;
  reconnectP50Sec: number;
  reconnectP99Sec: number;
  readingsAcked: number;
  ackedMissing: number;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

/** The acknowledged readings (`device@ts`) of a run's ground truth. */
function ackedReadings(s: SimulationSummary): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(s.groundTruthPath, 'utf8').split('\n')) {
    if (!line) continue;
    const l = JSON.parse(line) as { deviceId: string; ts: number; status: string };
    if (l.status === 'acked') out.add(`${l.deviceId}@${l.ts}`);
  }
  return out;
}

/**
 * Connects the fleet to `mqttUrl`, waits until every device is in and acknowledged, restarts the
 * gateway with `restart`, and measures the way back; `stored` lists what the store holds once
 * the run is over.
 */
async function storm(engine: string, mqttUrl: string, dataDir: string, restart: () => Promise<{ stoppedAt: number; readyAt: number; killedAt: number }>, stored: () => Promise<Set<string>>): Promise<Storm> {
  const lastConnect = new Map<string, number>();
  const lastAck = new Map<string, number>();
  const abort = new AbortController();
  const t0 = Date.now();
  const run = runSimulation({
    ...simulationDefaults(),
    mqttUrl,
    devices: o.devices,
    municipalities: MUNICIPALITIES,
    rate: 1 / o.interval,
    durationMs: 3_600_000,
    seed: SEED,
    registryPath: join(dataDir, 'devices.json'),
    secretsPath: join(dataDir, 'sim-secrets.json'),
    groundTruthPath: join(dataDir, 'truth.jsonl'),
    maxInflight: 50_000,
    connectRetryMs: 600_000,
    drainTimeoutMs: 60_000,
    localAddresses,
    signal: abort.signal,
    onDeviceEvent: (e) => (e.event === 'connect' ? lastConnect : e.event === 'ack' ? lastAck : undefined)?.set(e.deviceId, e.at),
  });
  const allAckedSince = (since: number) => lastAck.size === o.devices && [...lastAck.values()].every((at) => at >= since) && [...lastConnect.values()].length === o.devices;
  while (!allAckedSince(t0)) await sleep(200);
  const firstConnectSec = (Date.now() - t0) / 1000;
  log(`${engine}: ${o.devices} devices connected and acknowledged in ${firstConnectSec.toFixed(1)} s; publishing for 10 s, then restarting the gateway…`);
  await sleep(10_000);
  const r = await restart();
  log(`${engine}: gateway down ${((r.readyAt - r.killedAt) / 1000).toFixed(1)} s (SIGTERM → ready)`);
  const deadline = Date.now() + 300_000;
  const backAt = () => [...lastAck.entries()].filter(([d, at]) => at > r.killedAt && (lastConnect.get(d) ?? 0) > r.killedAt).map(([, at]) => at);
  while (backAt().length < o.devices && Date.now() < deadline) await sleep(200);
  const back = backAt();
  const reconnects = [...lastConnect.values()].filter((at) => at > r.killedAt).map((at) => (at - r.killedAt) / 1000);
  await sleep(5000);
  abort.abort();
  const summary = await run;
  const acked = ackedReadings(summary);
  let missing = acked.size;
  for (let i = 0; i < 150 && missing > 0; i++) {
    const have = await stored();
    missing = [...acked].filter((k) => !have.has(k)).length;
    if (missing > 0) await sleep(2000);
  }
  return {
    engine,
    devices: o.devices,
    firstConnectSec,
    downSec: (r.readyAt - r.killedAt) / 1000,
    allBackSec: back.length === o.devices ? (Math.max(...back) - r.killedAt) / 1000 : NaN,
    allBackAfterReadySec: back.length === o.devices ? (Math.max(...back) - r.readyAt) / 1000 : NaN,
    backWithin30s: back.filter((at) => at - r.killedAt <= 30_000).length,
    reconnectP50Sec: quantile(reconnects, 0.5),
    reconnectP99Sec: quantile(reconnects, 0.99),
    readingsAcked: acked.size,
    ackedMissing: missing,
  };
}

const registryDir = mkdtempSync(join(tmpdir(), 'storm-registry-'));
log(`registering ${o.devices} devices (a full scrypt hash each)…`);
const planned = planDevices({ count: o.devices, municipalities: MUNICIPALITIES, rng: new Rng(SEED) });
await ensureCredentials(new DeviceRegistry(join(registryDir, 'devices.json')), planned, join(registryDir, 'sim-secrets.json'));
const withRegistry = (dir: string) => {
  for (const f of ['devices.json', 'sim-secrets.json']) copyFileSync(join(registryDir, f), join(dir, f));
  return dir;
};

const results: Storm[] = [];
const engines = o.engines.split(',');
if (engines.includes('npm-start')) {
  const dataDir = withRegistry(mkdtempSync(join(tmpdir(), 'storm-npm-start-')));
  const ports = { mqtt: 18850, http: 18095, httpIngest: 18096, opsBase: 19300 };
  let node = await startBenchNpmStart(dataDir, ports);
  try {
    results.push(
      await storm(
        'npm start',
        node.mqttUrl,
        dataDir,
        async () => {
          const killedAt = Date.now();
          await node.stop();
          const stoppedAt = Date.now();
          node = await startBenchNpmStart(dataDir, ports);
          return { killedAt, stoppedAt, readyAt: Date.now() };
        },
        async () => {
          const db = openReadOnly(join(dataDir, 'store.db'));
          try {
            return new Set(db.prepare<[], { device: string; ts: number }>("SELECT device, ts FROM points WHERE measurement IN ('energy', 'fleet', 'parking')").all().map((p) => `${p.device}@${p.ts}`));
          } finally {
            db.close();
          }
        },
      ),
    );
  } finally {
    await node.stop();
  }
}
if (engines.includes('kafka')) {
  if (!(await status()).every((s) => s.running)) await up({ clean: false, log });
  const env = Object.fromEntries(Object.entries(serviceEnv()).filter(([k]) => !k.endsWith('INFLUX_TOKEN') && k !== 'DEVICE_REGISTRY_TOPIC'));
  const id = `storm-${Date.now().toString(36)}`;
  const pipeline = await startBenchPipeline(env, id, 6);
  withRegistry(pipeline.dataDir);
  const influx = new InfluxStore({ INFLUX_URL: pipeline.access.INFLUX_URL, INFLUX_ORG: pipeline.access.INFLUX_ORG, INFLUX_TOKEN: pipeline.access.operatorToken, INFLUX_BUCKET: pipeline.access.INFLUX_BUCKET });
  try {
    results.push(
      await storm(
        'gateway on Kafka',
        pipeline.mqttUrl,
        pipeline.dataDir,
        async () => {
          const killedAt = Date.now();
          const r = await pipeline.services.restart('gateway');
          return { killedAt, ...r };
        },
        async () => {
          const rows = await influx.query().collectRows<{ device: string; _time: string }>(`from(bucket: "${influx.bucket}") |> range(start: 0) |> filter(fn: (r) => r._field == "energy_wh" or r._field == "lat" or r._field == "private_use" or r._field == "occupied") |> keep(columns: ["device", "_time"])`);
          return new Set(rows.map((p) => `${p.device}@${Date.parse(p._time)}`));
        },
      ),
    );
  } finally {
    await pipeline.services.stop();
  }
}

const report = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
  load: { devices: o.devices, sourceAddresses: o.addresses, secondsBetweenMessages: o.interval },
  results,
};
const f1 = (x: number) => (Number.isNaN(x) ? 'not all' : x.toFixed(1));
const md = `# Reconnect storm — ${report.at}

Machine: ${report.machine.cpus} × ${report.machine.cpu}, ${report.machine.memoryGiB} GiB, Linux ${report.machine.kernel}, Node.js ${report.machine.node}.
${o.devices.toLocaleString('en')} registered devices connected from ${o.addresses} loopback addresses, a message each every ${o.interval} s (QoS 1); the gateway restarted (SIGTERM, then started again); devices retry with exponential backoff and jitter (0.5 s doubling to 10 s, × 0.5–1.5).

| | ${results.map((r) => r.engine).join(' | ')} |
|---|${results.map(() => '---|').join('')}
| first connection of the whole fleet (a full scrypt check each), s | ${results.map((r) => f1(r.firstConnectSec)).join(' | ')} |
| gateway down (SIGTERM → ready), s | ${results.map((r) => f1(r.downSec)).join(' | ')} |
| **every device back and acknowledged, s after the SIGTERM** | ${results.map((r) => `**${f1(r.allBackSec)}**`).join(' | ')} |
| … after the gateway was ready again, s | ${results.map((r) => f1(r.allBackAfterReadySec)).join(' | ')} |
| devices back within 30 s | ${results.map((r) => `${r.backWithin30s} of ${r.devices}`).join(' | ')} |
| reconnect p50 / p99 after the SIGTERM, s | ${results.map((r) => `${f1(r.reconnectP50Sec)} / ${f1(r.reconnectP99Sec)}`).join(' | ')} |
| readings acknowledged / missing from the store | ${results.map((r) => `${r.readingsAcked} / **${r.ackedMissing}**`).join(' | ')} |
`;
mkdirSync('bench/reports', { recursive: true });
writeFileSync('bench/reports/storm.json', `${JSON.stringify(report, null, 2)}\n`);
writeFileSync('bench/reports/storm.md', md);
console.log(md);
