/**
 * `npm run bench:peer`: the pipeline on Kafka beside the peer a municipality would otherwise
 * assemble (Mosquitto → Telegraf → InfluxDB, `bench/peer.ts`), on the same machine, the same
 * InfluxDB and the same load generator, minutes apart, so every figure is read as a ratio.
 *
 * For 1-reading and 10-reading messages, each system gets rising offered loads (QoS 1, 200
 * devices) until one is not sustained: all acknowledged readings stored (0 lost), published at
 * ≥ 95 % of the offered rate, and stored within DRAIN_LIMIT_S of the end of publishing. Writes
 * bench/reports/peer.{md,json} (`--report`).
 *
 * Latency is measured the same way for both, from outside: every half second the readings
 * acknowledged to the load generator and the readings stored are sampled; a stored count's lag is
 * how long before it the same count had been acknowledged.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { InfluxStore } from '#shared/influx/client.ts';
import { readingsSince } from '#shared/influx/counts.ts';
import { provisionStore, tokenOf } from '../engines/influxdb.ts';
import { influxPid } from '../engines/influxdb.ts';
import { kafkaPid } from '../engines/kafka.ts';
import { INFLUX_VERSION, KAFKA_VERSION } from '../engines/paths.ts';
import { down, serviceEnv, status, up } from '../engines/services.ts';
import type { GroundTruthLine, Progress } from '../simulators/runner.ts';
import { sleep } from '#shared/time.ts';
import { type ContractFloor, highestSustained, systemCost, whatBounds } from './bounds.ts';
import { procCpuSeconds, publishLoad } from './load.ts';
import { TELEGRAF_VERSION, startPeer } from './peer.ts';
import { startBenchNpmStart } from './npm-start.ts';
import { startBenchPipeline } from './pipeline-services.ts';
import { openReadOnly, type Statement } from '#shared/embedded/sqlite.ts';
import { VOCABULARY } from '#shared/schemas/kinds.ts';

const DRAIN_LIMIT_S = 10;
const DEVICES = 200;
const PEER_MQTT_PORT = 18850;

const program = new Command('bench-peer')
  .option('--rates <list>', 'offered loads to try, readings/s', '2500,5000,7500,10000,15000,20000,30000,40000')
  .option('--batches <list>', 'readings per message', '1,10')
  .option('--duration <s>', 'seconds of publishing per step', Number, 20)
  .option('--partitions <p>', 'partitions per topic', Number, 6)
  .option('--systems <list>', 'which to measure: peer, pipeline (on Kafka), npm-start (embedded)', 'peer,pipeline,npm-start')
  .option('--report <name>', 'bench/reports/NAME.{md,json}', 'peer')
  .option('--pubacks <list>', "connection counts for the PUBACK-rate runs ('none' to skip them)", '200,1000')
  .option('--paced <msg/s>', "the paced PUBACK runs' offered rate when the peer is not measured in the run", Number)
  .parse();
const o = program.opts<{ rates: string; batches: string; duration: number; partitions: number; systems: string; report: string; pubacks: string; paced?: number }>();
const systems = o.systems.split(',');
const rates = o.rates.split(',').map(Number);
const batches = o.batches.split(',').map(Number);

const log = (s: string) => console.error(`[bench] ${s}`);
const id = `peer-${Date.now().toString(36)}`;

interface Step {
  system: 'peer' | 'pipeline' | 'npm start';
  batch: number;
  offered: number;
  published: number;
  acked: number;
  stored: number;
  lost: number;
  /** Seconds from the end of publishing until the last acknowledged reading was stored (null: not within the limit). */
  drainS: number | null;
  lagP50S: number;
  lagP99S: number;
  /** CPU µs per stored reading, by process. */
  cpuUsPerReading: Record<string, number>;
  /** Devices whose connection was refused (their load was never offered). */
  devicesRefused: number;
  sustained: boolean;
}

/** Where a system's stored readings are looked up: its InfluxDB bucket, or `npm start`'s embedded store. */
interface StoredReadings {
  /** Readings stored with an event time since `from` (epoch ms). */
  count(from: number): Promise<number>;
  /** `device@ts` of every reading stored since `from`. */
  keys(from: number): Promise<Set<string>>;
}

/** In InfluxDB: the kinds' presence fields since `from`. */
function influxReadings(store: InfluxStore): StoredReadings {
  return {
    async count(from) {
      const rows = await store.query().collectRows<{ _value: number }>(`${readingsSince(store.bucket, new Date(from))} |> group() |> count()`);
      return rows[0]?._value ?? 0;
    },
    async keys(from) {
      const stored = new Set<string>();
      for await (const { values, tableMeta } of store.query().iterateRows(`${readingsSince(store.bucket, new Date(from))} |> keep(columns: ["_time", "device"])`)) {
        const row = tableMeta.toObject(values) as { _time: string; device: string };
        stored.add(`${row.device}@${Date.parse(row._time)}`);
      }
      return stored;
    },
  };
}

/** In `npm start`'s embedded store (read-only, beside the running process): its raw points since `from`. */
function embeddedReadings(storePath: string): StoredReadings {
  const raw = Object.values(VOCABULARY).map((v) => `'${v.raw}'`).join(', ');
  // Opened on first use (the store exists once npm start has written), its queries prepared once: the count runs every 0.5 s.
  let queries: { count: Statement<[number], { n: number }>; keys: Statement<[number], { device: string; ts: number }> } | undefined;
  const open = () => {
    if (queries) return queries;
    const db = openReadOnly(storePath);
    queries = {
      count: db.prepare(`SELECT COUNT(*) AS n FROM points WHERE measurement IN (${raw}) AND ts >= ?`),
      keys: db.prepare(`SELECT device, ts FROM points WHERE measurement IN (${raw}) AND ts >= ?`),
    };
    return queries;
  };
  return {
    count: async (from) => open().count.get(from)?.n ?? 0,
    keys: async (from) => new Set(open().keys.all(from).map((r) => `${r.device}@${r.ts}`)),
  };
}

/**
 * Acknowledged readings (by the ground truth the load generator wrote) that are not in the store:
 * each device's stored timestamps since `from` are read back and every acknowledged reading is
 * looked up, so readings stored twice or stored without an acknowledgement cannot hide a loss.
 */
async function missingAcked(store: StoredReadings, from: number, groundTruthPath: string): Promise<number> {
  const stored = await store.keys(from);
  let missing = 0;
  for (const line of readFileSync(groundTruthPath, 'utf8').split('\n')) {
    if (!line) continue;
    const t = JSON.parse(line) as Pick<GroundTruthLine, 'deviceId' | 'ts' | 'status'>;
    if (t.status === 'acked' && !stored.has(`${t.deviceId}@${t.ts}`)) missing++;
  }
  return missing;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** One load step against a running system: publish, sample acknowledged and stored counts, wait for the drain. */
async function step(system: Step['system'], batch: number, offered: number, mqttUrl: string, dataDir: string, store: StoredReadings, pids: Record<string, number>): Promise<Step> {
  const rate = offered / (DEVICES * batch);
  const samples: { t: number; acked: number; stored: number }[] = [];
  let progress: Progress | undefined;
  let publishing = false;
  let cpuBefore: Record<string, number> | undefined;
  let simCpuBefore = process.cpuUsage();
  const from = Date.now() - 1000;
  // The previous load's last second is stored with times after \`from\`: counted out.
  const before = await store.count(from);
  const storedNow = async () => (await store.count(from)) - before;
  const cpuNow = () => cpuSeconds(pids);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      if (publishing) {
        const stored = await storedNow();
        // The simulator's own progress object: acknowledged messages as of now.
        samples.push({ t: Date.now(), acked: (progress?.acked ?? 0) * batch, stored });
      }
      await sleep(500);
    }
  })();
  const summary = await publishLoad({ devices: DEVICES, rate, batch, duration: o.duration }, mqttUrl, dataDir, (p) => {
    progress = p;
    if (publishing) return;
    publishing = true;
    cpuBefore = cpuNow();
    simCpuBefore = process.cpuUsage();
  });
  const publishedAt = Date.now();
  const simCpu = process.cpuUsage(simCpuBefore);
  let drainS: number | null = null;
  for (;;) {
    const n = await storedNow();
    if (n >= summary.readingsAcked) {
      drainS = (Date.now() - publishedAt) / 1000;
      break;
    }
    if (Date.now() - publishedAt > DRAIN_LIMIT_S * 1000) break;
    await sleep(250);
  }
  sampling = false;
  await sampler;
  // The count says when enough is stored; the lookup says whether it is the acknowledged readings.
  let lost = await missingAcked(store, from, summary.groundTruthPath);
  if (lost > 0) drainS = null;
  // Whatever is still on its way after the drain limit is given a minute more before it counts as lost.
  for (let i = 0; i < 30 && lost > 0; i++) {
    await sleep(2000);
    lost = await missingAcked(store, from, summary.groundTruthPath);
  }
  const stored = await storedNow();
  const cpuAfter = cpuNow();
  const lags: number[] = [];
  for (const s of samples) {
    const first = samples.find((x) => x.acked >= s.stored);
    if (first && s.stored > 0) lags.push(Math.max(0, s.t - first.t) / 1000);
  }
  const cpuUsPerReading: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpuAfter)) cpuUsPerReading[k] = ((v - (cpuBefore?.[k] ?? v)) * 1e6) / Math.max(1, stored);
  cpuUsPerReading['load generator'] = (simCpu.user + simCpu.system) / Math.max(1, stored);
  const publishedRate = summary.readingsSent / (summary.elapsedMs / 1000);
  const r: Step = {
    system,
    batch,
    offered,
    published: Math.round(publishedRate),
    acked: summary.readingsAcked,
    stored,
    lost,
    drainS,
    lagP50S: quantile(lags, 0.5),
    lagP99S: quantile(lags, 0.99),
    cpuUsPerReading,
    devicesRefused: summary.devicesRefused.length,
    sustained: lost === 0 && drainS !== null && publishedRate >= 0.95 * offered && summary.devicesRefused.length === 0,
  };
  log(`  ${system} ${batch}/msg @ ${offered}/s: ${DEVICES - r.devicesRefused} devices connected, published ${r.published}/s, acked ${r.acked} (not acknowledged: ${summary.refused} refused, ${summary.unacked} unanswered), stored ${stored}, lost ${lost}, drained ${drainS === null ? `not within ${DRAIN_LIMIT_S} s` : `${drainS.toFixed(1)} s`} after, lag p50 ${r.lagP50S.toFixed(2)} s p99 ${r.lagP99S.toFixed(2)} s → ${r.sustained ? 'sustained' : 'not sustained'}`);
  return r;
}

interface Pubacks {
  system: Step['system'];
  connections: number;
  /** Messages per second offered: far beyond what any system takes, or 80 % of the peer's PUBACK rate. */
  offered: number;
  perSecond: number;
  /** Messages per second the load generator managed to publish. */
  publishedPerSecond: number;
  refusedDevices: number;
  /** Publish → PUBACK, seconds. */
  waitP50S: number;
  waitP99S: number;
  /** CPU µs per PUBACK, by process (and `npm start`'s main thread, where aedes runs). */
  cpuUsPerPuback: Record<string, number>;
}
const PUBACK_CONNECTIONS = o.pubacks === 'none' ? [] : o.pubacks.split(',').map(Number);
/** Offered far beyond what either system acknowledges, in 1-reading messages: what comes back is its PUBACK rate. */
const PUBACK_OFFERED_MSG_PER_S = 40_000;
/** The issue's bar: the other systems offered this share of the peer's PUBACK rate must keep up, p99 wait under 1 s. */
const PACED_SHARE = 0.8;
const pubackRuns: Pubacks[] = [];

/** PUBACKs per second at `connections` devices publishing 1-reading messages at `offered` msg/s in all (50,000 in flight at most). */
async function pubacks(system: Step['system'], r: Running, connections: number, offered: number): Promise<Pubacks> {
  // From the first publish (every device logged in) to the last PUBACK awaited.
  const cpuNow = () => cpuSeconds(r.pids, r.threads);
  let cpuBefore: Record<string, number> | undefined;
  const summary = await publishLoad({ devices: connections, rate: offered / connections, batch: 1, duration: 10 }, r.mqttUrl, r.dataDir, () => {
    cpuBefore ??= cpuNow();
  });
  const cpuAfter = cpuNow();
  const cpuUsPerPuback: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpuAfter)) cpuUsPerPuback[k] = ((v - (cpuBefore?.[k] ?? v)) * 1e6) / Math.max(1, summary.acked);
  const waits = (summary.ackWaitsMs ?? []).map((ms) => ms / 1000);
  const run = { system, connections, offered, perSecond: summary.acked / (summary.elapsedMs / 1000), publishedPerSecond: summary.sent / (summary.elapsedMs / 1000), refusedDevices: summary.devicesRefused.length, waitP50S: quantile(waits, 0.5), waitP99S: quantile(waits, 0.99), cpuUsPerPuback };
  log(`  ${system}: ${Math.round(run.perSecond)} PUBACKs/s with ${connections} connections, offered ${Math.round(offered)}/s, published ${Math.round(run.publishedPerSecond)}/s (${run.refusedDevices} refused), wait p50 ${run.waitP50S.toFixed(2)} s p99 ${run.waitP99S.toFixed(2)} s; CPU µs per PUBACK: ${Object.entries(cpuUsPerPuback).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  return run;
}

/**
 * The runs of one system: as fast as it acknowledges, then at 80 % of the peer's rate (when
 * measured) — the peer too, so the wait the load generator itself adds is seen beside the others'.
 */
async function pubackRunsOf(system: Step['system'], launch: Launch): Promise<void> {
  for (const n of PUBACK_CONNECTIONS) {
    pubackRuns.push(await launch(`pubacks-${n}`, (r) => pubacks(system, r, n, PUBACK_OFFERED_MSG_PER_S)));
    const peer = pubackRuns.find((p) => p.system === 'peer' && p.connections === n && p.offered === PUBACK_OFFERED_MSG_PER_S);
    const paced = peer ? PACED_SHARE * peer.perSecond : o.paced;
    if (paced) pubackRuns.push(await launch(`paced-${n}`, (r) => pubacks(system, r, n, paced)));
  }
}

async function sweep(system: Step['system'], batch: number, run: (offered: number) => Promise<Step>): Promise<Step[]> {
  const out: Step[] = [];
  for (const offered of rates) {
    const s = await run(offered);
    out.push(s);
    if (!s.sustained) break;
  }
  return out;
}

const alreadyUp = (await status()).every((s) => s.running);
const { started } = alreadyUp ? { started: [] as string[] } : await up({ clean: false, log });
const env = Object.fromEntries(Object.entries(serviceEnv()).filter(([k]) => !k.endsWith('INFLUX_TOKEN') && k !== 'DEVICE_REGISTRY_TOPIC'));
const steps: Step[] = [];

/** What a measurement needs of a running system: where devices connect, its data directory, its store, its processes. */
interface Running {
  mqttUrl: string;
  dataDir: string;
  store: StoredReadings;
  pids: Record<string, number>;
  /** Threads measured on their own beside their process (the PUBACK runs only: per reading they would count twice). */
  threads?: Record<string, { pid: number; thread: number }>;
}

/** CPU seconds used so far, by process and by named thread. */
function cpuSeconds(pids: Record<string, number>, threads: Running['threads'] = {}): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) used[k] = procCpuSeconds(pid);
  for (const [k, t] of Object.entries(threads)) used[k] = procCpuSeconds(t.pid, t.thread);
  return used;
}
type Launch = <T>(name: string, use: (r: Running) => Promise<T>) => Promise<T>;

/** The peer: Mosquitto → Telegraf, writing with a write-only token to a bucket of its own. */
const withPeer =
  (influxd: number): Launch =>
  async (name, use) => {
    const access = await provisionStore(`${id}_${name}_telegraf`.replace(/-/g, '_'));
    const dir = mkdtempSync(join(tmpdir(), `${id}-telegraf-`));
    const peer = await startPeer(dir, PEER_MQTT_PORT, { url: access.INFLUX_URL, org: access.INFLUX_ORG, bucket: access.INFLUX_BUCKET, token: tokenOf(access, 'writer') }, log);
    try {
      const store = influxReadings(new InfluxStore({ ...access, INFLUX_TOKEN: access.operatorToken }));
      return await use({ mqttUrl: `mqtt://127.0.0.1:${PEER_MQTT_PORT}`, dataDir: dir, store, pids: { mosquitto: peer.mosquitto.pid!, telegraf: peer.telegraf.pid!, influxdb: influxd } });
    } finally {
      await peer.stop();
    }
  };

/** The pipeline on Kafka, every service its own process. */
const withPipeline =
  (influxd: number): Launch =>
  async (name, use) => {
    const pipeline = await startBenchPipeline(env, `${id}-${name}`, o.partitions);
    try {
      const store = influxReadings(new InfluxStore({ ...pipeline.access, INFLUX_TOKEN: pipeline.access.operatorToken }));
      const pids: Record<string, number> = { kafka: kafkaPid()!, influxdb: influxd };
      for (const [n, child] of pipeline.services.children) pids[n] = child.pid!;
      return await use({ mqttUrl: pipeline.mqttUrl, dataDir: pipeline.dataDir, store, pids });
    } finally {
      await pipeline.services.stop();
    }
  };

/** `npm start`: one process, on its embedded log and store. */
const withNpmStart: Launch = async (name, use) => {
  const dir = mkdtempSync(join(tmpdir(), `${id}-npm-start-${name}-`));
  const single = await startBenchNpmStart(dir, { mqtt: 18860, http: 18061, httpIngest: 18062, opsBase: 19300 });
  try {
    const pid = single.node.pid!;
    // Its stages and store writers run on threads of their own; aedes and the log's appends on its main thread (the process's id).
    return await use({ mqttUrl: single.mqttUrl, dataDir: dir, store: embeddedReadings(single.storePath), pids: { 'npm start': pid }, threads: { 'npm start, main thread': { pid, thread: pid } } });
  } finally {
    await single.stop();
  }
};

/**
 * One system at one message size: its PUBACK runs (1-reading messages only), then rising loads.
 * Each PUBACK run gets a fresh instance, and so do the loads: a PUBACK run leaves a backlog far
 * beyond what the stages drain in seconds, which would otherwise slow whatever runs next.
 */
async function measure(system: Step['system'], label: string, launch: Launch, batch: number): Promise<Step[]> {
  log(`${label}, ${batch} reading(s) per message…`);
  if (batch === 1) await pubackRunsOf(system, launch);
  return launch(`${batch}`, (r) => sweep(system, batch, (offered) => step(system, batch, offered, r.mqttUrl, r.dataDir, r.store, r.pids)));
}

try {
  const influxd = influxPid()!;
  for (const batch of batches) {
    if (systems.includes('peer')) steps.push(...(await measure('peer', `peer (Mosquitto → Telegraf ${TELEGRAF_VERSION})`, withPeer(influxd), batch)));
    if (systems.includes('pipeline')) steps.push(...(await measure('pipeline', 'pipeline on Kafka', withPipeline(influxd), batch)));
    if (systems.includes('npm-start')) steps.push(...(await measure('npm start', 'npm start (embedded)', withNpmStart, batch)));
  }
} finally {
  if (started.length > 0) await down(started);
}

const best = (system: Step['system'], batch: number) => highestSustained(steps, system, batch);
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const cpuParts = (s: Step) => Object.entries(s.cpuUsPerReading).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
const rows = batches.map((batch) => {
  const peer = best('peer', batch);
  const ratio = (s: Step | undefined) => (peer && s ? (s.offered / peer.offered).toFixed(2) : '–');
  const cell = (s: Step | undefined) => (s ? `${fmt(s.offered)} readings/s (lag p50 ${s.lagP50S.toFixed(2)} s, p99 ${s.lagP99S.toFixed(2)} s; ${systemCost(s).toFixed(0)} µs CPU per reading)` : `none of the loads tried`);
  const pipe = best('pipeline', batch);
  const single = best('npm start', batch);
  return `| ${batch} | ${cell(peer)} | ${cell(pipe)} | ${ratio(pipe)} | ${cell(single)} | ${ratio(single)} |`;
});
/** The topic contract's floor per reading, when `npm run bench:kafka-clients` has measured it. */
const floor = ((): ContractFloor | undefined => {
  const file = 'bench/reports/kafka-clients.json';
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<ContractFloor>;
  // Reports from before the per-message contract carry no `perReading`: not a floor of this contract.
  return r.at && r.perReading ? { at: r.at, perReading: r.perReading } : undefined;
})();
const bounds = batches.flatMap((batch) => (['pipeline', 'npm start'] as const).map((system) => whatBounds(steps, system, batch, DRAIN_LIMIT_S, floor))).filter((line) => line !== undefined);
const at = new Date().toISOString();
const md = `# The pipeline and npm start beside Mosquitto → Telegraf — ${at}

Machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node.js ${process.version}.
Same machine, same InfluxDB ${INFLUX_VERSION} (each system its own bucket, written with a write-only token), same load generator
(${DEVICES} devices, QoS 1, ${o.duration} s per step). The pipeline on Kafka ${KAFKA_VERSION}, every service its own process; \`npm start\`
one process on its embedded log and store (SQLite, fsync'd commits; its own store, not InfluxDB); the peer is
Mosquitto (Debian's, any device let in) → Telegraf ${TELEGRAF_VERSION} (\`mqtt_consumer\`, persistent session, acknowledging
after the write) → InfluxDB. Sustained = 0 lost, published at ≥ 95 % of the offered rate, stored within ${DRAIN_LIMIT_S} s of
the end of publishing.

## Highest sustained load

| readings per message | peer | pipeline | ratio (pipeline / peer) | npm start | ratio (npm start / peer) |
|---|---|---|---|---|---|
${rows.join('\n')}

## What bounds each system short of the peer

${bounds.length > 0 ? bounds.join('\n') : 'None measured here falls short of the peer.'}

Where each process spends its CPU: run a step again with \`BENCH_NODE_ARGS="--perf-prof --perf-prof-path=DIR"\`, record it
with \`perf record -k 1 -a -g\`, name the JIT code with \`perf inject --jit\` and summarise with \`node bench/perf-summary.ts\`
(on-CPU, kernel included; the recipe is in that file, and docs/benchmarks.md holds the last summary). V8's own profiler (\`--cpu-prof\`, \`bench/cpu-profile.ts\`) names
functions better but samples a wall clock: on busy cores it charges a socket write with the time its thread waits after it.

## PUBACKs per second (1-reading messages, QoS 1, offered ${fmt(PUBACK_OFFERED_MSG_PER_S)} messages/s)

| connections | peer (Mosquitto) | pipeline (gateway, PUBACK after Kafka acks=all) | ratio | npm start (PUBACK after the embedded log's fsync'd commit) | ratio |
|---|---|---|---|---|---|
${PUBACK_CONNECTIONS.map((n) => {
  const run = (system: Step['system']) => pubackRuns.find((r) => r.system === system && r.connections === n && r.offered === PUBACK_OFFERED_MSG_PER_S);
  const peer = run('peer');
  const cell = (r: Pubacks | undefined) => (r ? `${fmt(r.perSecond)} (wait p99 ${r.waitP99S.toFixed(1)} s)${r.refusedDevices ? ` (${r.refusedDevices} devices refused)` : ''}` : '–');
  const ratio = (r: Pubacks | undefined) => (peer && r ? (r.perSecond / peer.perSecond).toFixed(2) : '–');
  return `| ${n} | ${cell(peer)} | ${cell(run('pipeline'))} | ${ratio(run('pipeline'))} | ${cell(run('npm start'))} | ${ratio(run('npm start'))} |`;
}).join('\n')}

Offered far beyond what any of them takes, with 50,000 messages in flight at most, each system's
PUBACK wait is mostly its queue. So each is also offered ${PACED_SHARE * 100} % of the peer's rate, the peer
included (wait: from publish to PUBACK, as the load generator sees it; published: what the load
generator, on the same two cores, managed to send):

| connections | offered, messages/s | peer: published/s, acknowledged/s, wait p50 / p99 | pipeline | npm start |
|---|---|---|---|---|
${PUBACK_CONNECTIONS.map((n) => {
  const paced = pubackRuns.filter((r) => r.connections === n && r.offered !== PUBACK_OFFERED_MSG_PER_S);
  const cell = (system: Step['system']) => {
    const r = paced.find((p) => p.system === system);
    return r ? `${fmt(r.publishedPerSecond)}, ${fmt(r.perSecond)}, ${r.waitP50S.toFixed(2)} / ${r.waitP99S.toFixed(2)} s` : '–';
  };
  return `| ${n} | ${paced[0] ? fmt(paced[0].offered) : '–'} | ${cell('peer')} | ${cell('pipeline')} | ${cell('npm start')} |`;
}).join('\n')}

CPU per PUBACK in the runs offered ${fmt(PUBACK_OFFERED_MSG_PER_S)} messages/s, every device logged in, of the process that
acknowledges — Mosquitto; the gateway (its Kafka produce included, the broker not); \`npm start\` whole, whose
stages and store writers work through the same messages meanwhile, and its main thread, where aedes and
the log's appends run — and the ratio to Mosquitto's; every process measured is listed in the report's JSON:

| connections | Mosquitto, µs | gateway on Kafka | ratio | \`npm start\` (main thread) | ratio |
|---|---|---|---|---|---|
${PUBACK_CONNECTIONS.map((n) => {
  const run = (system: Step['system']) => pubackRuns.find((r) => r.system === system && r.connections === n && r.offered === PUBACK_OFFERED_MSG_PER_S);
  const mosquitto = run('peer')?.cpuUsPerPuback.mosquitto;
  const gateway = run('pipeline')?.cpuUsPerPuback.gateway;
  const single = run('npm start')?.cpuUsPerPuback;
  const us = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
  const ratio = (x: number | undefined) => (x === undefined || !mosquitto ? '–' : `${(x / mosquitto).toFixed(1)} ×`);
  const main = single?.['npm start, main thread'];
  return `| ${n} | ${us(mosquitto)} | ${us(gateway)} | ${ratio(gateway)} | ${us(single?.['npm start'])} (${us(main)}) | ${ratio(single?.['npm start'])} (${ratio(main)}) |`;
}).join('\n')}

## Every step

| system | readings/msg | offered | published | acknowledged | stored | lost | drained after | lag p50 / p99 | CPU µs per reading | sustained |
|---|---|---|---|---|---|---|---|---|---|---|
${steps.map((s) => `| ${s.system} | ${s.batch} | ${fmt(s.offered)} | ${fmt(s.published)} | ${s.acked} | ${s.stored} | ${s.lost} | ${s.drainS === null ? `> ${DRAIN_LIMIT_S} s` : `${s.drainS.toFixed(1)} s`} | ${s.lagP50S.toFixed(2)} / ${s.lagP99S.toFixed(2)} s | ${cpuParts(s)} | ${s.sustained ? 'yes' : 'no'} |`).join('\n')}
`;
mkdirSync('bench/reports', { recursive: true });
writeFileSync(`bench/reports/${o.report}.json`, `${JSON.stringify({ at, steps, pubacks: pubackRuns }, null, 2)}\n`);
writeFileSync(`bench/reports/${o.report}.md`, md);
console.log(md);
