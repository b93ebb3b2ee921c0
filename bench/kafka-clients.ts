/**
 * `npm run bench:kafka-clients`: what one canonical reading costs a Kafka client in CPU, produced
 * (idempotent, acks=all, keyed by device, 500 per send — as the normaliser produces) and consumed
 * (as the writer and the aggregator consume). kafkajs (the bus today, with its partitioner as the
 * bus sets it) against @platformatic/kafka, each run in a fresh process on the local Kafka's
 * loopback listener, each twice; the broker's own CPU is read from /proc beside each.
 *
 * Then the floor the topic contract sets: the same readings written as raw points to the local
 * InfluxDB as the writer writes them (line protocol, 5,000 a request), InfluxDB's CPU included.
 * One produce, two consumes and one stored point per reading, with no stage doing any work of its
 * own, is the least any implementation of the contract can spend per reading; the report sets it
 * beside the peer's whole cost per reading from the last `npm run bench:peer`.
 * Writes bench/reports/kafka-clients.{md,json}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { Consumer, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { InfluxStore } from '#shared/influx/client.ts';
import { toLine } from '#shared/influx/line-protocol.ts';
import { rememberingKeyPartitioner } from '#shared/kafka/partitioner.ts';
import { influxPid, provisionStore, storeEnvFor } from '../engines/influxdb.ts';
import { kafkaBrokers, kafkaPid } from '../engines/kafka.ts';
import { INFLUX_VERSION, KAFKA_VERSION } from '../engines/paths.ts';
import { down, status, up } from '../engines/services.ts';
import { parseNormalizedMessage, readingsOf, toNormalizedMessage, type CanonicalReading } from '#shared/schemas/readings.ts';
import { readingToPoint } from '#shared/store/points.ts';
import { type BoundStep, floorPerReading, highestSustained, systemCost } from './bounds.ts';
import { procCpuSeconds } from './load.ts';

const RECORDS = 200_000;
const PER_SEND = 500;
const CLIENTS = ['kafkajs', 'kafkajs-remembering', '@platformatic/kafka'] as const;
type Client = (typeof CLIENTS)[number];

/**
 * Points per store request: the writer's most (WRITE_BATCH_MAX's default). Its requests in the
 * pipeline are smaller (about 650 points) and cost InfluxDB more a point, so the floor errs low.
 */
const STORE_BATCH = 5000;

/**
 * A normalised message of one reading as the normaliser writes it (about 330 bytes), for 2,000
 * devices; `t0` is the first reading's time. One reading a record: the costliest message shape.
 */
function records(from: number, count = PER_SEND, t0 = 1_764_200_000_000): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, j) => {
    const deviceId = `athens-energy-${String((from + j) % 2000).padStart(4, '0')}`;
    const reading = { deviceId, municipality: 'athens', kind: 'energy', ts: t0 + from + j, tsFromGateway: false, receivedAt: t0 + 100 + from + j, gatewayId: 'gw-1', attrs: { district: 'plaka', building: 'b-12', buildingType: 'school', circuit: 'main' }, values: { energy_wh: 123_456.5 + j, power_w: 1500.2, voltage_v: 230.1 } } as CanonicalReading;
    return { key: deviceId, value: JSON.stringify(toNormalizedMessage([reading])) };
  });
}

/**
 * CPU µs per point of writing RECORDS readings as the writer's points (line protocol, one request
 * per STORE_BATCH), the points' making included and the records' JSON left out: the part of the
 * writer no implementation avoids.
 */
async function store(env: Record<string, string>): Promise<number> {
  const t0 = Date.now() - 86_400_000; // the raw bucket keeps 90 days and refuses older points
  const readings = Array.from({ length: RECORDS / STORE_BATCH }, (_, i) =>
    records(i * STORE_BATCH, STORE_BATCH, t0).map((m) => {
      const parsed = parseNormalizedMessage(JSON.parse(m.value));
      if (!parsed.success) throw new Error('the benchmark record is not a normalised message');
      return readingsOf(parsed.data)[0]!;
    }),
  );
  const influx = new InfluxStore({ INFLUX_URL: env.INFLUX_URL!, INFLUX_TOKEN: env.INFLUX_TOKEN!, INFLUX_ORG: env.INFLUX_ORG!, INFLUX_BUCKET: env.INFLUX_BUCKET! });
  const before = process.cpuUsage();
  for (const batch of readings) await influx.write(batch.map((r) => toLine(readingToPoint(r))!));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / RECORDS;
}

/** CPU µs per record of producing RECORDS to `topic`, the records' own making left out. */
async function produce(client: Client, topic: string, brokers: string[]): Promise<number> {
  const batches = Array.from({ length: RECORDS / PER_SEND }, (_, i) => records(i * PER_SEND));
  const before = process.cpuUsage();
  if (client === '@platformatic/kafka') {
    const p = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL });
    for (const b of batches) await p.send({ messages: b.map((m) => ({ ...m, topic })) });
    await p.close();
  } else {
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: client === 'kafkajs' ? Partitioners.DefaultPartitioner : rememberingKeyPartitioner });
    await p.connect();
    for (const b of batches) await p.send({ topic, acks: -1, messages: b });
    await p.disconnect();
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / RECORDS;
}

/** CPU µs per record of consuming RECORDS from `topic` and reading each value as text. */
async function consume(client: Client, topic: string, brokers: string[]): Promise<number> {
  const before = process.cpuUsage();
  let n = 0;
  if (client === '@platformatic/kafka') {
    const c = new Consumer({ groupId: `bench-${topic}-${client}`, clientId: 'bench', bootstrapBrokers: brokers, maxWaitTime: 100 });
    const stream = await c.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    for await (const m of stream) {
      m.value.toString('utf8');
      if (++n >= RECORDS) break;
    }
    const used = process.cpuUsage(before);
    await c.close(true);
    return (used.user + used.system) / RECORDS;
  }
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const c = kafka.consumer({ groupId: `bench-${topic}-${client}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 1024 * 1024 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void c.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) m.value?.toString('utf8');
        n += batch.messages.length;
        if (n >= RECORDS) resolve();
      },
    });
  });
  const used = process.cpuUsage(before);
  await c.disconnect();
  return (used.user + used.system) / RECORDS;
}

if (process.argv[2] === '--child') {
  const [, , , client, mode, topic, brokers] = process.argv as [string, string, string, Client, 'produce' | 'consume' | 'store', string, string];
  const us = mode === 'store' ? await store(process.env as Record<string, string>) : await (mode === 'produce' ? produce : consume)(client, topic, brokers.split(','));
  console.log(JSON.stringify({ us }));
  process.exit(0);
}

/**
 * Runs one measurement in a fresh process; returns its own CPU µs per record and the engine's
 * (read from /proc around it, so the engine's idle ticks of those seconds count too: a little high).
 */
function child(args: string[], enginePid: number, env: Record<string, string> = {}): { us: number; engineUs: number } {
  const engineBefore = procCpuSeconds(enginePid);
  const r = spawnSync(process.execPath, [import.meta.filename, '--child', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')} exited with ${r.status}`);
  const engineUs = ((procCpuSeconds(enginePid) - engineBefore) * 1e6) / RECORDS;
  return { us: (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { us: number }).us, engineUs };
}

const log = (s: string) => console.error(`[bench] ${s}`);
const alreadyUp = (await status()).every((s) => s.running);
const { started } = alreadyUp ? { started: [] as string[] } : await up({ clean: false, log });
const brokers = kafkaBrokers().split(',');
const runs: { client: Client; round: number; produceUs: number; consumeUs: number; brokerProduceUs: number; brokerConsumeUs: number }[] = [];
const stores: { round: number; clientUs: number; influxdbUs: number }[] = [];
try {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const broker = kafkaPid()!;
  const storeEnv = storeEnvFor(await provisionStore(`bench_floor_${Date.now().toString(36)}`), 'writer');
  // A broker fresh from its start spends its first seconds compiling (round 1 measured it at
  // 2-3 times round 2): one unmeasured produce and consume warms it for every client alike.
  const warmUp = `bench-clients-warm-${Date.now().toString(36)}`;
  await admin.createTopics({ topics: [{ topic: warmUp, numPartitions: 6 }], waitForLeaders: true });
  for (const mode of ['produce', 'consume']) child(['kafkajs-remembering', mode, warmUp, brokers.join(',')], broker);
  await admin.deleteTopics({ topics: [warmUp] });
  log('broker warmed up');
  for (let round = 1; round <= 2; round++) {
    for (const client of CLIENTS) {
      const topic = `bench-clients-${Date.now().toString(36)}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
      const p = child([client, 'produce', topic, brokers.join(',')], broker);
      const c = child([client, 'consume', topic, brokers.join(',')], broker);
      runs.push({ client, round, produceUs: p.us, consumeUs: c.us, brokerProduceUs: p.engineUs, brokerConsumeUs: c.engineUs });
      log(`${client} (round ${round}): produce ${p.us.toFixed(1)} µs (broker ${p.engineUs.toFixed(1)}), consume ${c.us.toFixed(1)} µs (broker ${c.engineUs.toFixed(1)}) CPU per record`);
      await admin.deleteTopics({ topics: [topic] });
    }
    const s = child(['-', 'store', '-', '-'], influxPid()!, storeEnv);
    stores.push({ round, clientUs: s.us, influxdbUs: s.engineUs });
    log(`store (round ${round}): writer ${s.us.toFixed(1)} µs, InfluxDB ${s.engineUs.toFixed(1)} µs CPU per point`);
  }
  await admin.disconnect();
} finally {
  if (started.length > 0) await down(started);
}

const at = new Date().toISOString();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const both = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ');
/** Per canonical reading the pipeline produces it once (normaliser) and consumes it twice (writer, aggregator). */
const perReading = (produce: number, consume: number) => produce + 2 * consume;
const byClient = CLIENTS.map((client) => {
  const mine = runs.filter((r) => r.client === client);
  const clientUs = perReading(mean(mine.map((r) => r.produceUs)), mean(mine.map((r) => r.consumeUs)));
  const brokerUs = perReading(mean(mine.map((r) => r.brokerProduceUs)), mean(mine.map((r) => r.brokerConsumeUs)));
  const row = `| ${client} | ${both(mine.map((r) => r.produceUs))} | ${both(mine.map((r) => r.consumeUs))} | ${clientUs.toFixed(1)} | ${both(mine.map((r) => r.brokerProduceUs))} | ${both(mine.map((r) => r.brokerConsumeUs))} | ${brokerUs.toFixed(1)} |`;
  return { client, clientUs, brokerUs, row };
});
const storeClientUs = mean(stores.map((s) => s.clientUs));
const storeInfluxUs = mean(stores.map((s) => s.influxdbUs));
const cheapest = byClient.reduce((a, b) => (a.clientUs + a.brokerUs <= b.clientUs + b.brokerUs ? a : b));
const floorUs = cheapest.clientUs + cheapest.brokerUs + storeClientUs + storeInfluxUs;
/** `telemetry.raw`'s share: one produce and one consume per device message, client and broker. */
const cheapestRuns = runs.filter((r) => r.client === cheapest.client);
const rawHopUs = mean(cheapestRuns.map((r) => r.produceUs + r.consumeUs + r.brokerProduceUs + r.brokerConsumeUs));
const floorFor = (batch: number) => floorPerReading({ floorUs, rawHopUs }, batch);
const peer = peerCost();

/** The peer's whole cost per stored reading (load generator left out) at its highest sustained step, per message size, from the last `npm run bench:peer`. */
function peerCost(): { at: string; rows: { batch: number; offered: number; us: number }[] } | undefined {
  const file = 'bench/reports/peer.json';
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8')) as { at: string; steps: BoundStep[] };
  const rows = [...new Set(report.steps.map((s) => s.batch))].flatMap((batch) => {
    const best = highestSustained(report.steps, 'peer', batch);
    return best ? [{ batch, offered: best.offered, us: systemCost(best) }] : [];
  });
  return { at: report.at, rows };
}

const peerLines = peer
  ? peer.rows.map((r) => `| ${r.batch} | ${floorFor(r.batch).toFixed(1)} | ${r.us.toFixed(1)} (at ${r.offered.toLocaleString('en')} readings/s) | ${(floorFor(r.batch) / r.us).toFixed(2)} |`).join('\n')
  : `| 1 | ${floorFor(1).toFixed(1)} | no \`bench/reports/peer.json\`: run \`npm run bench:peer\` | — |\n| 10 | ${floorFor(10).toFixed(1)} | — | — |`;
const md = `# Kafka clients: CPU per record, and the floor per reading — ${at}

Machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node.js ${process.version}; Kafka ${KAFKA_VERSION} and InfluxDB ${INFLUX_VERSION} on loopback.
${RECORDS.toLocaleString('en')} canonical readings (~330 bytes, keyed by 2,000 device ids) produced idempotently with acks=all in sends of ${PER_SEND}, into 6 partitions, then consumed from the start; each client in a fresh process, twice (round 1 / round 2).
"kafkajs-remembering" is kafkajs with the bus's partitioner (\`shared/kafka/partitioner.ts\`). The broker's CPU is read from /proc around each run.

| client | produce, µs CPU per record | consume | per canonical reading (1 produce + 2 consumes) | broker: produce | broker: consume | broker per reading |
|---|---|---|---|---|---|---|
${byClient.map((c) => c.row).join('\n')}

## The floor the topic contract sets

Here every reading is its own record on \`telemetry.normalized\` (a 1-reading device message: since 2026-12 a record carries a whole device message, so a 10-reading message shares one record), consumed by the writer's and the aggregator's groups, and stored as one point. With no stage doing anything else — no MQTT, no \`telemetry.raw\`, no parsing, checks or aggregates — a reading still costs:

| part | µs CPU per reading |
|---|---|
| the cheapest client above (${cheapest.client}): 1 produce + 2 consumes | ${cheapest.clientUs.toFixed(1)} |
| the broker, for the same | ${cheapest.brokerUs.toFixed(1)} |
| the writer's store write: points, line protocol, HTTP, ${STORE_BATCH.toLocaleString('en')} a request (${both(stores.map((s) => s.clientUs))}) | ${storeClientUs.toFixed(1)} |
| InfluxDB storing the point (${both(stores.map((s) => s.influxdbUs))}) | ${storeInfluxUs.toFixed(1)} |
| **floor on \`telemetry.normalized\`** | **${floorUs.toFixed(1)}** |
| and \`telemetry.raw\`: one produce and one consume per device message, client and broker | ${rawHopUs.toFixed(1)} ÷ readings per message |

Against the peer's whole cost per stored reading (Mosquitto + Telegraf + InfluxDB, the load generator left out) at its highest sustained step in ${peer ? `\`bench/reports/peer.json\` (${peer.at})` : 'the last `npm run bench:peer`'}; the floor still leaves out the gateway's MQTT work:

| readings per message | floor, µs CPU per reading | peer, µs CPU per reading | floor ÷ peer |
|---|---|---|---|
${peerLines}

Where the floor is above the peer's whole cost, no implementation of the contract reaches the peer's rate on the same cores, however little its stages do.
`;
mkdirSync('bench/reports', { recursive: true });
writeFileSync('bench/reports/kafka-clients.json', `${JSON.stringify({ at, records: RECORDS, perSend: PER_SEND, storeBatch: STORE_BATCH, runs, stores, floorUs, rawHopUs, peer }, null, 2)}\n`);
writeFileSync('bench/reports/kafka-clients.md', md);
console.log(md);
