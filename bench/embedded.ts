/**
 * `npm run bench:embedded`: the one-process `npm start` on its
 * embedded SQLite log and store, under the same simulated load as the full benchmark. Writes
 * bench/reports/embedded.{md,json}.
 *
 *   simulator ─MQTT→ [ gateway → log → normalizer → log → writer → store; aggregator ] one process
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { counterValue, histogramQuantile } from '#shared/http/metrics-text.ts';
import { procCpuSeconds, publishLoad, waitStored } from './load.ts';
import { startBenchNpmStart } from './npm-start.ts';

const program = new Command('bench-embedded')
  .option('--devices <n>', 'simulated devices', Number, 200)
  .option('--rate <r>', 'messages per second per device', Number, 10)
  .option('--batch <b>', 'readings per message', Number, 10)
  .option('--duration <s>', 'seconds of publishing', Number, 30)
  .parse();
const o = program.opts<{ devices: number; rate: number; batch: number; duration: number }>();

const log = (s: string) => console.error(`[bench] ${s}`);

const dataDir = mkdtempSync(join(tmpdir(), 'bench-embedded-'));
const { node, mqttUrl, stop } = await startBenchNpmStart(dataDir, { mqtt: 18840, http: 18090, httpIngest: 18091, opsBase: 19100 });
const metrics = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const written = async () => counterValue(await metrics(19103), 'writer_points_written_total');

try {
  const target = o.devices * o.rate * o.batch;
  log(`embedded: ${o.devices} devices × ${o.rate} msg/s × ${o.batch} readings = ${target} readings/s for ${o.duration}s…`);
  let cpuStart: number | undefined;
  let benchCpuStart: NodeJS.CpuUsage | undefined;
  const summary = await publishLoad(o, mqttUrl, dataDir, () => {
    cpuStart ??= procCpuSeconds(node.pid!);
    benchCpuStart ??= process.cpuUsage();
  });
  const firstPublishAt = Date.now() - summary.elapsedMs;
  const publishSecs = summary.elapsedMs / 1000;
  log(`  published ${summary.readingsSent} readings in ${publishSecs.toFixed(1)}s, acked ${summary.readingsAcked}`);
  const landedAt = await waitStored(written, summary.readingsAcked);
  const stored = await written();
  const e2eSecs = (landedAt - firstPublishAt) / 1000;
  const nodeCores = (procCpuSeconds(node.pid!) - (cpuStart ?? 0)) / e2eSecs;
  const bench = process.cpuUsage(benchCpuStart);
  const simCores = (bench.user + bench.system) / 1e6 / e2eSecs;
  const writerText = await metrics(19103);
  const p50 = histogramQuantile(writerText, 'writer_end_to_end_seconds', 0.5);
  const p99 = histogramQuantile(writerText, 'writer_end_to_end_seconds', 0.99);
  const e2eRate = stored / e2eSecs;
  const report = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
    load: { devices: o.devices, messagesPerSecPerDevice: o.rate, readingsPerMessage: o.batch, targetReadingsPerSec: target, durationSec: o.duration },
    embedded: {
      readingsSent: summary.readingsSent,
      readingsAcked: summary.readingsAcked,
      pointsStored: stored,
      lost: summary.readingsAcked - stored,
      publishReadingsPerSec: summary.readingsSent / publishSecs,
      endToEndReadingsPerSec: e2eRate,
      latencyP50Sec: p50,
      latencyP99Sec: p99,
      cpuCores: { 'npm start (every stage)': nodeCores, simulator: simCores },
    },
  };
  const md = `# Embedded benchmark — ${report.at}

Machine: ${report.machine.cpus} × ${report.machine.cpu}, ${report.machine.memoryGiB} GiB, Linux ${report.machine.kernel}, Node.js ${report.machine.node}.
\`npm start\` (one process, embedded SQLite log and store, WAL + synchronous=FULL) and the simulator on the same machine.
Load: ${o.devices} devices × ${o.rate} msg/s × ${o.batch} readings/msg (target ${target.toLocaleString('en')} readings/s) for ${o.duration} s, QoS 1.

| figure | value |
|---|---|
| readings sent / acknowledged / stored | ${summary.readingsSent} / ${summary.readingsAcked} / ${stored} (lost: ${report.embedded.lost}) |
| publish rate (PUBACK after the log's commit) | ${Math.round(report.embedded.publishReadingsPerSec).toLocaleString('en')} readings/s |
| end to end (first publish → last point stored) | **${Math.round(e2eRate).toLocaleString('en')} readings/s** |
| latency device timestamp → stored, p50 / p99 | **${p50?.toFixed(3)} s / ${p99?.toFixed(3)} s** |
| CPU, cores | npm start ${nodeCores.toFixed(2)} · simulator ${simCores.toFixed(2)} |
`;
  mkdirSync('bench/reports', { recursive: true });
  writeFileSync('bench/reports/embedded.json', `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync('bench/reports/embedded.md', md);
  console.log(md);
} finally {
  await stop();
}
