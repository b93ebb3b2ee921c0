/**
 * `npm run bench`: end-to-end throughput and latency of the pipeline on this machine, beside the
 * raw limits of its engines measured in the same run. Writes bench/reports/latest.{md,json}.
 *
 *   simulator ─MQTT→ gateway ─→ Kafka ─→ normalizer ─→ Kafka ─→ writer ─→ InfluxDB
 *                                                          └──→ aggregator ─→ InfluxDB
 * Every service runs as its own process, as in production (`npm run service -- NAME`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { INFLUX_VERSION, KAFKA_VERSION } from '../engines/paths.ts';
import { kafkaPid } from '../engines/kafka.ts';
import { influxPid } from '../engines/influxdb.ts';
import { down, serviceEnv, status, up } from '../engines/services.ts';
import type { LaunchedServices } from './launch.ts';
import { BENCH_OPS_PORTS, startBenchPipeline } from './pipeline-services.ts';
import { InfluxStore } from '#shared/influx/client.ts';
import { countRawPoints } from '#shared/influx/counts.ts';
import { ensureTopics } from '#shared/kafka/topics.ts';
import { influxBulkWrite, kafkaProducerPerf } from './engines.ts';
import { procCpuSeconds, publishLoad, waitStored } from './load.ts';
import { counterValue, histogramQuantile } from '#shared/http/metrics-text.ts';

const program = new Command('bench')
  .option('--devices <n>', 'simulated devices', Number, 200)
  .option('--rate <r>', 'messages per second per device', Number, 10)
  .option('--batch <b>', 'readings per message', Number, 10)
  .option('--duration <s>', 'seconds of publishing', Number, 30)
  .option('--partitions <p>', 'partitions per topic', Number, 6)
  .parse();
const o = program.opts<{ devices: number; rate: number; batch: number; duration: number; partitions: number }>();

const log = (s: string) => console.error(`[bench] ${s}`);
const id = `bench-${Date.now().toString(36)}`;
const db = id.replace(/-/g, '_');

const alreadyUp = (await status()).every((s) => s.running);
const { started } = alreadyUp ? { started: [] as string[] } : await up({ clean: false, log });
// Where the engines are; the run provisions buckets and tokens of its own, and registers its devices in a file of its own.
const env = Object.fromEntries(Object.entries(serviceEnv()).filter(([k]) => !k.endsWith('INFLUX_TOKEN') && k !== 'DEVICE_REGISTRY_TOPIC'));
const kafka = new Kafka({ brokers: [env.KAFKA_BROKERS!], logLevel: logLevel.NOTHING });
let services: LaunchedServices | undefined;

try {
  // 1. The engines alone.
  log('Kafka producer performance tool (300k × 300 B, acks=all, idempotent)…');
  await ensureTopics(kafka, [{ topic: `${id}.perf`, partitions: o.partitions, replicationFactor: 1 }]);
  const kafkaPerf = kafkaProducerPerf(env.KAFKA_BROKERS!, `${id}.perf`, 300_000, 300);
  log(`  ${Math.round(kafkaPerf.recordsPerSec)} records/s`);
  log('InfluxDB bulk line-protocol write (300k points, 5000 per request)…');
  const influxBulk = await influxBulkWrite(`${db}_bulk`, 300_000);
  log(`  ${Math.round(influxBulk.pointsPerSec)} points/s`);

  // 2. The pipeline, each service its own process.
  const pipeline = await startBenchPipeline(env, id, o.partitions);
  services = pipeline.services;
  const { access, dataDir } = pipeline;
  const ports = BENCH_OPS_PORTS;

  const enginePids = { kafka: kafkaPid(), influxdb: influxPid() };
  const cpuOf = async () => {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(enginePids)) if (pid !== undefined) out[name] = procCpuSeconds(pid);
    for (const [name, port] of Object.entries(ports)) out[name] = counterValue(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'process_cpu_seconds_total');
    return out;
  };
  // CPU is counted from the first publish: connecting (a scrypt check per device) is set-up.
  let cpuBefore: Promise<Record<string, number>> | undefined;
  let benchCpuBefore = process.cpuUsage();
  const target = o.devices * o.rate * o.batch;
  log(`pipeline: ${o.devices} devices × ${o.rate} msg/s × ${o.batch} readings = ${target} readings/s for ${o.duration}s…`);
  const summary = await publishLoad(o, pipeline.mqttUrl, dataDir, () => {
    if (cpuBefore) return;
    benchCpuBefore = process.cpuUsage();
    cpuBefore = cpuOf();
  });
  const publishSecs = summary.elapsedMs / 1000;
  // Connecting 200 devices (a scrypt check each) is not throughput: time from the first publish.
  const firstPublishAt = Date.now() - summary.elapsedMs;
  if (summary.devicesRefused.length > 0) log(`  ${summary.devicesRefused.length} of ${o.devices} devices could not connect: their load was not offered`);
  log(`  published ${summary.readingsSent} readings in ${publishSecs.toFixed(1)}s (${Math.round(summary.readingsSent / publishSecs)}/s), acked ${summary.readingsAcked}`);

  const store = new InfluxStore({ ...access, INFLUX_TOKEN: access.operatorToken });
  const written = async () => counterValue(await (await fetch(`http://127.0.0.1:${ports.writer}/metrics`)).text(), 'writer_points_written_total');
  const landedAt = await waitStored(written, summary.readingsAcked);
  const e2eSecs = (landedAt - firstPublishAt) / 1000;
  const cpuAfter = await cpuOf();
  const benchCpu = process.cpuUsage(benchCpuBefore);
  /** Share of one core each process used while the run lasted. */
  const cpuStart = (await cpuBefore) ?? {};
  const cpuShare: Record<string, number> = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, (v - (cpuStart[k] ?? 0)) / e2eSecs]));
  cpuShare.simulator = (benchCpu.user + benchCpu.system) / 1e6 / e2eSecs;
  let stored = 0;
  for (const m of ['energy', 'fleet', 'parking'] as const) stored += await countRawPoints(store, m);
  const writerMetrics = await (await fetch(`http://127.0.0.1:${ports.writer}/metrics`)).text();
  const gatewayMetrics = await (await fetch(`http://127.0.0.1:${ports.gateway}/metrics`)).text();
  const p50 = histogramQuantile(writerMetrics, 'writer_end_to_end_seconds', 0.5);
  const p99 = histogramQuantile(writerMetrics, 'writer_end_to_end_seconds', 0.99);
  const gatewayRecords = counterValue(gatewayMetrics, 'gateway_records_forwarded_total');
  const hopNames = ['device_to_gateway', 'gateway_to_normalized', 'normalized_to_stored'] as const;
  const hopLatency = Object.fromEntries(
    hopNames.map((h) => [h, { p50: histogramQuantile(writerMetrics, 'writer_hop_seconds', 0.5, `hop="${h}"`), p99: histogramQuantile(writerMetrics, 'writer_hop_seconds', 0.99, `hop="${h}"`) }]),
  );

  const e2eRate = stored / e2eSecs;
  const report = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
    engines: { kafka: { version: KAFKA_VERSION, ...kafkaPerf }, influxdb: { version: INFLUX_VERSION, ...influxBulk } },
    load: { devices: o.devices, messagesPerSecPerDevice: o.rate, readingsPerMessage: o.batch, targetReadingsPerSec: target, durationSec: o.duration, partitions: o.partitions },
    pipeline: {
      readingsSent: summary.readingsSent,
      readingsAcked: summary.readingsAcked,
      pointsStored: stored,
      lost: summary.readingsAcked - stored,
      publishReadingsPerSec: summary.readingsSent / publishSecs,
      gatewayKafkaRecordsPerSec: gatewayRecords / publishSecs,
      endToEndReadingsPerSec: e2eRate,
      endToEndSeconds: e2eSecs,
      latencyP50Sec: p50,
      latencyP99Sec: p99,
      cpuCoresUsed: cpuShare,
      hopLatency,
    },
    ratios: {
      gatewayRecordsToKafkaPerf: gatewayRecords / publishSecs / kafkaPerf.recordsPerSec,
      endToEndReadingsToInfluxBulk: e2eRate / influxBulk.pointsPerSec,
    },
  };
  const cpuTotal = Object.values(cpuShare).reduce((a, b) => a + b, 0);
  const slowestHop = hopNames.reduce((a, b) => ((hopLatency[b]!.p99 ?? 0) > (hopLatency[a]!.p99 ?? 0) ? b : a));
  const busiest = Object.entries(cpuShare).sort((a, b) => b[1] - a[1])[0]!;
  const why = `the processes used ${cpuTotal.toFixed(2)} of ${report.machine.cpus} cores (the load generator included), the busiest being the ${busiest[0]} (${busiest[1].toFixed(2)}), and the slowest hop at p99 is ${slowestHop.replace(/_/g, ' ')}`;
  const verdict =
    e2eRate >= 20_000 && (p99 ?? Infinity) < 2 && report.pipeline.lost === 0
      ? `meets the aim (≥ 20,000 readings/s end to end, p99 < 2 s, nothing lost); ${why}`
      : `falls short of the aim (≥ 20,000 readings/s, p99 < 2 s, nothing lost) with ${Math.round(e2eRate).toLocaleString('en')} readings/s, p99 ${p99?.toFixed(2)} s, ${report.pipeline.lost} lost: ${why}`;
  const md = `# Benchmark — ${report.at}

Machine: ${report.machine.cpus} × ${report.machine.cpu}, ${report.machine.memoryGiB} GiB, Linux ${report.machine.kernel}, Node.js ${report.machine.node}.
Kafka ${KAFKA_VERSION} (KRaft, single node) and InfluxDB ${INFLUX_VERSION} on the same machine, every service its own process.

## Engines alone (same run)
| engine | test | result |
|---|---|---|
| Kafka | ProducerPerformance, ${kafkaPerf.records} × ${kafkaPerf.recordBytes} B, acks=all, idempotent | **${Math.round(kafkaPerf.recordsPerSec).toLocaleString('en')} records/s** (${kafkaPerf.mbPerSec} MB/s, p99 ${kafkaPerf.p99LatencyMs} ms) |
| InfluxDB | bulk line protocol, ${influxBulk.points} points, ${influxBulk.batch}/request, 2 in flight | **${Math.round(influxBulk.pointsPerSec).toLocaleString('en')} points/s** |

## Pipeline
Load: ${o.devices} devices × ${o.rate} msg/s × ${o.batch} readings/msg (target ${target.toLocaleString('en')} readings/s) for ${o.duration} s, QoS 1, ${o.partitions} partitions.

| figure | value |
|---|---|
| readings sent / acknowledged / stored | ${summary.readingsSent} / ${summary.readingsAcked} / ${stored} (lost: ${report.pipeline.lost}) |
| publish rate (simulator → gateway, PUBACK after Kafka) | ${Math.round(report.pipeline.publishReadingsPerSec).toLocaleString('en')} readings/s |
| gateway → Kafka records | ${Math.round(report.pipeline.gatewayKafkaRecordsPerSec).toLocaleString('en')} records/s (${(report.ratios.gatewayRecordsToKafkaPerf * 100).toFixed(1)} % of the Kafka tool) |
| end to end (first publish → last point in InfluxDB) | **${Math.round(e2eRate).toLocaleString('en')} readings/s** (${(report.ratios.endToEndReadingsToInfluxBulk * 100).toFixed(1)} % of InfluxDB bulk) |
| latency device timestamp → InfluxDB ack, p50 / p99 | **${p50?.toFixed(3)} s / ${p99?.toFixed(3)} s** |

Latency by hop, p50 / p99: ${hopNames.map((h) => `${h.replace(/_/g, ' ')} ${hopLatency[h]!.p50?.toFixed(3)} / ${hopLatency[h]!.p99?.toFixed(3)} s`).join('; ')}.

CPU used during the run, in cores (of ${report.machine.cpus}):

| process | cores |
|---|---|
${Object.entries(cpuShare).map(([k, v]) => `| ${k} | ${v.toFixed(2)} |`).join('\n')}

**Verdict**: ${verdict}.
`;
  mkdirSync('bench/reports', { recursive: true });
  writeFileSync('bench/reports/latest.json', `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync('bench/reports/latest.md', md);
  console.log(md);
} finally {
  await services?.stop();
  if (started.length > 0) await down(started);
}
