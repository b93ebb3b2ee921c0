/**
 * `npm run bench:kafka-clients`: what one canonical reading costs a Kafka client in CPU, produced
 * (idempotent, acks=all, keyed by device, 500 per send — as the normaliser produces) and consumed
 * (as the writer and the aggregator consume). kafkajs (the bus today, with its partitioner as the
 * bus sets it) against @platformatic/kafka, each run in a fresh process on the local Kafka's
 * loopback listener, each twice. Writes bench/reports/kafka-clients.{md,json}.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { Consumer, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { rememberingKeyPartitioner } from '#shared/kafka/partitioner.ts';
import { kafkaBrokers } from '#shared/local-engines/kafka.ts';
import { KAFKA_VERSION } from '#shared/local-engines/paths.ts';
import { down, status, up } from '#shared/local-engines/services.ts';

const RECORDS = 200_000;
const PER_SEND = 500;
const CLIENTS = ['kafkajs', 'kafkajs-remembering', '@platformatic/kafka'] as const;
type Client = (typeof CLIENTS)[number];

/** A canonical reading as the normaliser writes it (about 330 bytes), for 2,000 devices. */
function records(from: number): { key: string; value: string }[] {
  return Array.from({ length: PER_SEND }, (_, j) => {
    const deviceId = `athens-energy-${String((from + j) % 2000).padStart(4, '0')}`;
    const reading = { deviceId, municipality: 'athens', kind: 'energy', ts: 1_764_200_000_000 + from + j, tsFromGateway: false, receivedAt: 1_764_200_000_100 + from + j, gatewayId: 'gw-1', attrs: { district: 'plaka', building: 'b-12', buildingType: 'school', circuit: 'main' }, values: { energy_wh: 123_456.5 + j, power_w: 1500.2, voltage_v: 230.1 } };
    return { key: deviceId, value: JSON.stringify(reading) };
  });
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
  const [, , , client, mode, topic, brokers] = process.argv as [string, string, string, Client, 'produce' | 'consume', string, string];
  const us = await (mode === 'produce' ? produce : consume)(client, topic, brokers.split(','));
  console.log(JSON.stringify({ us }));
  process.exit(0);
}

const log = (s: string) => console.error(`[bench] ${s}`);
const alreadyUp = (await status()).every((s) => s.running);
const { started } = alreadyUp ? { started: [] as string[] } : await up({ clean: false, log });
const brokers = kafkaBrokers().split(',');
const runs: { client: Client; round: number; produceUs: number; consumeUs: number }[] = [];
try {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  for (let round = 1; round <= 2; round++) {
    for (const client of CLIENTS) {
      const topic = `bench-clients-${Date.now().toString(36)}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
      const child = (mode: string) => {
        const r = spawnSync(process.execPath, [import.meta.filename, '--child', client, mode, topic, brokers.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
        if (r.status !== 0) throw new Error(`${client} ${mode} exited with ${r.status}`);
        return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { us: number }).us;
      };
      const produceUs = child('produce');
      const consumeUs = child('consume');
      runs.push({ client, round, produceUs, consumeUs });
      log(`${client} (round ${round}): produce ${produceUs.toFixed(1)} µs, consume ${consumeUs.toFixed(1)} µs CPU per record`);
      await admin.deleteTopics({ topics: [topic] });
    }
  }
  await admin.disconnect();
} finally {
  if (started.length > 0) await down(started);
}

const at = new Date().toISOString();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows = CLIENTS.map((client) => {
  const mine = runs.filter((r) => r.client === client);
  const p = mean(mine.map((r) => r.produceUs));
  const c = mean(mine.map((r) => r.consumeUs));
  // Per canonical reading the pipeline produces it once (normaliser) and consumes it twice (writer, aggregator).
  return `| ${client} | ${mine.map((r) => r.produceUs.toFixed(1)).join(' / ')} | ${mine.map((r) => r.consumeUs.toFixed(1)).join(' / ')} | ${(p + 2 * c).toFixed(1)} |`;
});
const md = `# Kafka clients: CPU per record — ${at}

Machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node.js ${process.version}; Kafka ${KAFKA_VERSION} on loopback.
${RECORDS.toLocaleString('en')} canonical readings (~330 bytes, keyed by 2,000 device ids) produced idempotently with acks=all in sends of ${PER_SEND}, into 6 partitions, then consumed from the start; each client in a fresh process, twice (round 1 / round 2).
"kafkajs-remembering" is kafkajs with the bus's partitioner (\`shared/kafka/partitioner.ts\`).

| client | produce, µs CPU per record | consume, µs CPU per record | per canonical reading in the pipeline (1 produce + 2 consumes) |
|---|---|---|---|
${rows.join('\n')}
`;
mkdirSync('bench/reports', { recursive: true });
writeFileSync('bench/reports/kafka-clients.json', `${JSON.stringify({ at, records: RECORDS, perSend: PER_SEND, runs }, null, 2)}\n`);
writeFileSync('bench/reports/kafka-clients.md', md);
console.log(md);
