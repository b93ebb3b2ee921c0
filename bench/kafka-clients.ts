/**
 * `npm run bench:kafka-clients`: what a Kafka client costs in CPU per record and per reading under
 * the topic contract — a `telemetry.normalized` record is one device message (1 or 10 readings
 * here), produced idempotently with acks=all, keyed by device, 500 per send (as the normaliser
 * produces) and consumed as the writer and the aggregator consume it. kafkajs (the bus today, with
 * and without the bus's partitioner), @platformatic/kafka and — when it is installed (it is not a
 * dependency: see docs/benchmarks.md) — @confluentinc/kafka-javascript (librdkafka, its native
 * API). Each measurement runs in a fresh process on the local Kafka's loopback listener; the
 * broker's own CPU is read from /proc beside each.
 *
 * Then the floor the contract sets per reading: `telemetry.raw` (one produce and one consume of
 * the gateway's envelope per device message), `telemetry.normalized` (one produce and two consumes
 * per device message) with the cheapest client, and the reading stored as a point in the local
 * InfluxDB as the writer writes it (InfluxDB's CPU included) — no stage doing any work of its own.
 * Writes bench/reports/kafka-clients.{md,json}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
import { rawEnvelope } from '#shared/schemas/envelope.ts';
import { parseNormalizedMessage, readingsOf, toNormalizedMessage, type CanonicalReading } from '#shared/schemas/readings.ts';
import { readingToPoint } from '#shared/store/points.ts';
import { type BoundStep, highestSustained, systemCost } from './bounds.ts';
import { procCpuSeconds } from './load.ts';

const RECORDS = 100_000;
const PER_SEND = 500;
/** Readings per device message: the two shapes `npm run bench:peer` measures. */
const SHAPES = [1, 10] as const;
const CONFLUENT = '@confluentinc/kafka-javascript';
/** kafkajs as the bus runs it: its partitioner (shared/kafka/partitioner.ts) and shared/kafka/kafkajs-speedups.ts. */
const BUS = 'kafkajs (bus)';
const CLIENTS = ['kafkajs', BUS, '@platformatic/kafka', CONFLUENT] as const;
type Client = (typeof CLIENTS)[number];
/** Which records a run carries: the normaliser's messages, or the gateway's envelopes on `telemetry.raw`. */
type Topic = 'normalized' | 'raw';

/**
 * Points per store request: the writer's most (WRITE_BATCH_MAX's default). Its requests in the
 * pipeline are smaller (about 650 points) and cost InfluxDB more a point, so the floor errs low.
 */
const STORE_BATCH = 5000;

/** @confluentinc/kafka-javascript from `CONFLUENT_KAFKA_DIR` (a project it was built in) or this one; undefined when not installed. */
function confluent(): ConfluentModule | undefined {
  const from = process.env.CONFLUENT_KAFKA_DIR ? `${process.env.CONFLUENT_KAFKA_DIR}/package.json` : import.meta.filename;
  try {
    return createRequire(from)(CONFLUENT) as ConfluentModule;
  } catch {
    return undefined;
  }
}

/** The few calls of the librdkafka binding's native API used here. */
interface ConfluentModule {
  librdkafkaVersion: string;
  Producer: new (conf: Record<string, unknown>) => {
    connect(o: unknown, cb: (err: Error | null) => void): void;
    setPollInterval(ms: number): void;
    produce(topic: string, partition: null, value: Buffer, key: string, timestamp: number): void;
    on(event: 'delivery-report', cb: (err: Error | null) => void): void;
    disconnect(cb: () => void): void;
  };
  KafkaConsumer: new (conf: Record<string, unknown>, topicConf: Record<string, unknown>) => {
    connect(o: unknown, cb: (err: Error | null) => void): void;
    subscribe(topics: string[]): void;
    consume(n: number, cb: (err: Error | null, messages: { value: Buffer | null }[]) => void): void;
    disconnect(cb: () => void): void;
  };
}

/** A reading of device `i`'s message, at `ts`. */
function reading(deviceId: string, ts: number, j: number): CanonicalReading {
  return { deviceId, municipality: 'athens', kind: 'energy', ts, tsFromGateway: false, receivedAt: ts + 100, gatewayId: 'gw-1', attrs: { district: 'plaka', building: 'b-12', buildingType: 'school', circuit: 'main' }, values: { energy_wh: 123_456.5 + j, power_w: 1500.2, voltage_v: 230.1 } };
}

/**
 * `count` device messages of `readings` readings each, for 2,000 devices, as the normaliser writes
 * them (normalized) or as the gateway writes them (raw: the device's native JSON in its envelope);
 * `t0` is the first reading's time.
 */
function records(topic: Topic, readings: number, from: number, count = PER_SEND, t0 = 1_764_200_000_000): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, j) => {
    const deviceId = `athens-energy-${String((from + j) % 2000).padStart(4, '0')}`;
    const ts = t0 + (from + j) * readings;
    const message = Array.from({ length: readings }, (_, k) => reading(deviceId, ts + k, j));
    if (topic === 'normalized') return { key: deviceId, value: JSON.stringify(toNormalizedMessage(message)) };
    const native = message.map((r) => ({ ts: r.ts, ...r.values }));
    const payload = Buffer.from(JSON.stringify(native.length === 1 ? native[0] : native));
    return { key: deviceId, value: JSON.stringify(rawEnvelope('gw-1', { municipality: 'athens', kind: 'energy', deviceId }, payload, 'mqtt', ts + 100)) };
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
    records('normalized', 1, i * STORE_BATCH, STORE_BATCH, t0).map((m) => {
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

/** CPU µs per record of producing RECORDS device messages to `topic`, the records' own making left out. */
async function produce(client: Client, kind: Topic, readings: number, topic: string, brokers: string[]): Promise<number> {
  const batches = Array.from({ length: RECORDS / PER_SEND }, (_, i) => records(kind, readings, i * PER_SEND));
  const before = process.cpuUsage();
  if (client === '@platformatic/kafka') {
    const p = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL });
    for (const b of batches) await p.send({ messages: b.map((m) => ({ ...m, topic })) });
    await p.close();
  } else if (client === CONFLUENT) {
    const { Producer: NativeProducer } = confluent()!;
    const p = new NativeProducer({ 'metadata.broker.list': brokers.join(','), 'enable.idempotence': true, acks: 'all', dr_cb: true, 'linger.ms': 5 });
    await new Promise<void>((resolve, reject) => p.connect({}, (err) => (err ? reject(err) : resolve())));
    p.setPollInterval(5);
    let waiting: { left: number; done: (err?: Error) => void } | undefined;
    p.on('delivery-report', (err) => {
      if (!waiting) return;
      if (err) return waiting.done(err);
      if (--waiting.left === 0) waiting.done();
    });
    // As the bus sends: a batch at a time, the next once every record of it is acknowledged.
    for (const b of batches) {
      await new Promise<void>((resolve, reject) => {
        waiting = { left: b.length, done: (err) => (err ? reject(err) : resolve()) };
        for (const m of b) p.produce(topic, null, Buffer.from(m.value), m.key, Date.now());
      });
    }
    await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  } else {
    if (client === BUS) {
      const { fastCrc, linearGrouping } = await import('#shared/kafka/kafkajs-speedups.ts');
      if (!fastCrc || !linearGrouping) throw new Error('kafkajs-speedups.ts loaded after kafkajs');
    }
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
  const done = () => {
    const used = process.cpuUsage(before);
    return (used.user + used.system) / RECORDS;
  };
  if (client === '@platformatic/kafka') {
    const c = new Consumer({ groupId: `bench-${topic}-${client}`, clientId: 'bench', bootstrapBrokers: brokers, maxWaitTime: 100 });
    const stream = await c.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    for await (const m of stream) {
      m.value.toString('utf8');
      if (++n >= RECORDS) break;
    }
    const us = done();
    await c.close(true);
    return us;
  }
  if (client === CONFLUENT) {
    const { KafkaConsumer } = confluent()!;
    const c = new KafkaConsumer({ 'group.id': `bench-${topic}-confluent`, 'metadata.broker.list': brokers.join(','), 'enable.auto.commit': false }, { 'auto.offset.reset': 'earliest' });
    await new Promise<void>((resolve, reject) => c.connect({}, (err) => (err ? reject(err) : resolve())));
    c.subscribe([topic]);
    while (n < RECORDS) {
      const batch = await new Promise<{ value: Buffer | null }[]>((resolve, reject) => c.consume(1000, (err, messages) => (err ? reject(err) : resolve(messages))));
      for (const m of batch) m.value?.toString('utf8');
      n += batch.length;
    }
    const us = done();
    await new Promise<void>((resolve) => c.disconnect(() => resolve()));
    return us;
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
  const us = done();
  await c.disconnect();
  return us;
}

if (process.argv[2] === '--child') {
  const [, , , client, mode, kind, readings, topic, brokers] = process.argv as [string, string, string, Client, 'produce' | 'consume' | 'store', Topic, string, string, string];
  const us =
    mode === 'store' ? await store(process.env as Record<string, string>) : mode === 'produce' ? await produce(client, kind, Number(readings), topic, brokers.split(',')) : await consume(client, topic, brokers.split(','));
  console.log(JSON.stringify({ us }));
  process.exit(0);
}

/**
 * Runs one measurement in a fresh process; returns its own CPU µs per record and the engine's
 * (read from /proc around it, so the engine's idle ticks of those seconds count too: a little high).
 */
function child(args: string[], enginePid: number, env: Record<string, string> = {}): { us: number; engineUs: number } {
  const engineBefore = procCpuSeconds(enginePid);
  // The services load the kafkajs speed-ups before kafkajs itself (shared/kafka/client.ts); so does the bus's child here.
  const preload = args[0] === BUS ? ['--import', import.meta.resolve('#shared/kafka/kafkajs-speedups.ts')] : [];
  const r = spawnSync(process.execPath, [...preload, import.meta.filename, '--child', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${args.slice(0, 3).join(' ')} exited with ${r.status}`);
  const engineUs = ((procCpuSeconds(enginePid) - engineBefore) * 1e6) / RECORDS;
  return { us: (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { us: number }).us, engineUs };
}

interface Run {
  client: Client;
  topic: Topic;
  /** Readings per record (device message). */
  readings: number;
  produceUs: number;
  consumeUs: number;
  brokerProduceUs: number;
  brokerConsumeUs: number;
}

const log = (s: string) => console.error(`[bench] ${s}`);
const librdkafka = confluent()?.librdkafkaVersion;
const clients = CLIENTS.filter((c) => c !== CONFLUENT || librdkafka);
if (!librdkafka) log(`${CONFLUENT} is not installed (set CONFLUENT_KAFKA_DIR to a project it was built in): left out`);
const alreadyUp = (await status()).every((s) => s.running);
const { started } = alreadyUp ? { started: [] as string[] } : await up({ clean: false, log });
const brokers = kafkaBrokers().split(',');
const runs: Run[] = [];
const stores: { clientUs: number; influxdbUs: number }[] = [];
try {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const broker = kafkaPid()!;
  const storeEnv = storeEnvFor(await provisionStore(`bench_floor_${Date.now().toString(36)}`), 'writer');
  /** Produces then consumes one topic of RECORDS device messages with `client`. */
  const measure = async (client: Client, topic: Topic, readings: number): Promise<Run> => {
    const name = `bench-clients-${Date.now().toString(36)}`;
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 6 }], waitForLeaders: true });
    const p = child([client, 'produce', topic, String(readings), name, brokers.join(',')], broker);
    const c = child([client, 'consume', topic, String(readings), name, brokers.join(',')], broker);
    await admin.deleteTopics({ topics: [name] });
    return { client, topic, readings, produceUs: p.us, consumeUs: c.us, brokerProduceUs: p.engineUs, brokerConsumeUs: c.engineUs };
  };
  // A broker fresh from its start spends its first seconds compiling (a first run measured it at
  // 2-3 times a second): one unmeasured produce and consume warms it for every client alike.
  await measure(BUS, 'normalized', 1);
  log('broker warmed up');
  for (const readings of SHAPES) {
    for (const client of clients) {
      const r = await measure(client, 'normalized', readings);
      runs.push(r);
      log(`${client}, ${readings}-reading messages: produce ${r.produceUs.toFixed(1)} µs (broker ${r.brokerProduceUs.toFixed(1)}), consume ${r.consumeUs.toFixed(1)} µs (broker ${r.brokerConsumeUs.toFixed(1)}) CPU per record`);
    }
    // telemetry.raw is the gateway's and the normaliser's hop, on the bus's client.
    const raw = await measure(BUS, 'raw', readings);
    runs.push(raw);
    log(`raw envelopes, ${readings}-reading messages: ${(raw.produceUs + raw.consumeUs + raw.brokerProduceUs + raw.brokerConsumeUs).toFixed(1)} µs per record, client and broker`);
  }
  for (let round = 1; round <= 2; round++) {
    const s = child(['-', 'store', 'normalized', '1', '-', '-'], influxPid()!, storeEnv);
    stores.push({ clientUs: s.us, influxdbUs: s.engineUs });
    log(`store (round ${round}): writer ${s.us.toFixed(1)} µs, InfluxDB ${s.engineUs.toFixed(1)} µs CPU per point`);
  }
  await admin.disconnect();
} finally {
  if (started.length > 0) await down(started);
}

const at = new Date().toISOString();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const both = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ');
/** A `telemetry.normalized` record is produced once (normaliser) and consumed twice (writer, aggregator). */
const perRecord = (r: Run) => ({ client: r.produceUs + 2 * r.consumeUs, broker: r.brokerProduceUs + 2 * r.brokerConsumeUs });
const storeClientUs = mean(stores.map((s) => s.clientUs));
const storeInfluxUs = mean(stores.map((s) => s.influxdbUs));
const shapes = SHAPES.map((readings) => {
  const mine = runs.filter((r) => r.topic === 'normalized' && r.readings === readings);
  const cheapest = mine.reduce((a, b) => (perRecord(a).client + perRecord(a).broker <= perRecord(b).client + perRecord(b).broker ? a : b));
  const raw = runs.find((r) => r.topic === 'raw' && r.readings === readings)!;
  const rawUs = raw.produceUs + raw.consumeUs + raw.brokerProduceUs + raw.brokerConsumeUs;
  const normalizedUs = perRecord(cheapest).client + perRecord(cheapest).broker;
  const floorUs = (rawUs + normalizedUs) / readings + storeClientUs + storeInfluxUs;
  return { readings, rows: mine, cheapest, rawUs, normalizedUs, floorUs };
});
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

const clientRows = shapes.flatMap((s) =>
  s.rows.map((r) => {
    const { client, broker } = perRecord(r);
    return `| ${r.client} | ${s.readings} | ${r.produceUs.toFixed(1)} | ${r.consumeUs.toFixed(1)} | **${client.toFixed(1)}** | ${(client / s.readings).toFixed(1)} | ${both([r.brokerProduceUs, r.brokerConsumeUs])} | ${broker.toFixed(1)} | ${(broker / s.readings).toFixed(1)} |`;
  }),
);
const floorRows = shapes.map((s) => {
  const p = peer?.rows.find((r) => r.batch === s.readings);
  const peerCell = p ? `${p.us.toFixed(1)} (at ${p.offered.toLocaleString('en')} readings/s)` : 'no `bench/reports/peer.json`: run `npm run bench:peer`';
  return `| ${s.readings} | ${(s.rawUs / s.readings).toFixed(1)} | ${(s.normalizedUs / s.readings).toFixed(1)} (${s.cheapest.client}) | ${(storeClientUs + storeInfluxUs).toFixed(1)} | **${s.floorUs.toFixed(1)}** | ${peerCell} | ${p ? (s.floorUs / p.us).toFixed(2) : '—'} |`;
});
const md = `# Kafka clients: CPU per record and per reading, and the floor the contract sets — ${at}

Machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node.js ${process.version}; Kafka ${KAFKA_VERSION} and InfluxDB ${INFLUX_VERSION} on loopback.
${RECORDS.toLocaleString('en')} \`telemetry.normalized\` records (one device message each: 1 or 10 energy readings, keyed by 2,000 device ids) produced idempotently with acks=all in sends of ${PER_SEND}, into 6 partitions, then consumed from the start; each client and each direction in a fresh process, after one unmeasured run that warms the broker. The broker's CPU is read from /proc around each run (its background work of those seconds counts too).
"${BUS}" is kafkajs as the bus runs it: with its partitioner (\`shared/kafka/partitioner.ts\`) and \`shared/kafka/kafkajs-speedups.ts\` (a native CRC-32C, encoder buffers not zeroed, a send's records grouped by partition in one pass). ${librdkafka ? `${CONFLUENT} through its native API (librdkafka ${librdkafka}): \`produce\` per record with delivery reports, a batch awaited at a time, \`consume(1000)\`.` : `${CONFLUENT} was not installed for this run (see docs/benchmarks.md for the build).`}

A record is produced once (the normaliser) and consumed twice (the writer and the aggregator):

| client | readings per record | produce, µs CPU per record | consume | **per record: 1 produce + 2 consumes** | per reading | broker: produce / consume per record | broker per record | broker per reading |
|---|---|---|---|---|---|---|---|---|
${clientRows.join('\n')}

## The floor the topic contract sets

Per device message, with no stage doing anything of its own — no MQTT, no parsing, checks or aggregates: \`telemetry.raw\` (the gateway's envelope produced once and consumed once, on the bus's client, broker included), \`telemetry.normalized\` (one produce and two consumes with the cheapest client above, broker included), and each reading stored as a point (the writer's line protocol and HTTP, ${STORE_BATCH.toLocaleString('en')} a request, ${both(stores.map((s) => s.clientUs))} µs; InfluxDB ${both(stores.map((s) => s.influxdbUs))} µs). Against the peer's whole cost per stored reading (Mosquitto + Telegraf + InfluxDB, the load generator left out) at its highest sustained step in ${peer ? `\`bench/reports/peer.json\` (${peer.at})` : 'the last `npm run bench:peer`'}; the floor still leaves out the gateway's MQTT work:

| readings per message | \`telemetry.raw\`, µs per reading | \`telemetry.normalized\`, µs per reading | store, µs per reading | **floor, µs CPU per reading** | peer, µs CPU per reading | floor ÷ peer |
|---|---|---|---|---|---|---|
${floorRows.join('\n')}
`;
mkdirSync('bench/reports', { recursive: true });
const perReading = Object.fromEntries(shapes.map((s) => [String(s.readings), s.floorUs]));
writeFileSync('bench/reports/kafka-clients.json', `${JSON.stringify({ at, records: RECORDS, perSend: PER_SEND, storeBatch: STORE_BATCH, librdkafka, runs, stores, perReading, peer }, null, 2)}\n`);
writeFileSync('bench/reports/kafka-clients.md', md);
console.log(md);
