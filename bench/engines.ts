/**
 * The raw limits of the engines on this machine, measured in the same run as the pipeline:
 * Kafka's own producer performance tool (from the broker jars) and a bulk line-protocol write
 * to InfluxDB.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { KAFKA_VERSION, cacheHome } from '../engines/paths.ts';
import { provisionStore } from '../engines/influxdb.ts';

export interface KafkaPerf {
  records: number;
  recordBytes: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  p99LatencyMs: number;
}

export function kafkaProducerPerf(brokers: string, topic: string, records: number, recordBytes: number): KafkaPerf {
  const res = spawnSync(
    'java',
    [
      '-Xmx512m',
      '-cp',
      `${join(cacheHome, `kafka-${KAFKA_VERSION}`, 'libs')}/*`,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic', topic,
      '--num-records', String(records),
      '--record-size', String(recordBytes),
      '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5', 'batch.size=65536',
    ],
    { encoding: 'utf8' },
  );
  const last = res.stdout.trim().split('\n').pop() ?? '';
  // "300000 records sent, 151285.9 records/sec (43.28 MB/sec), 170.24 ms avg latency, … 99th."
  const m = /([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.*?(\d+) ms 99th/.exec(last);
  if (!m) throw new Error(`could not read ProducerPerformance output:\n${res.stdout}\n${res.stderr}`);
  return { records, recordBytes, recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]), avgLatencyMs: Number(m[3]), p99LatencyMs: Number(m[4]) };
}

export interface InfluxBulk {
  points: number;
  pointsPerSec: number;
  batch: number;
}

/** Writes `points` energy-like points in batches of `batch` lines, two requests in flight. */
export async function influxBulkWrite(database: string, points: number, batch = 5000): Promise<InfluxBulk> {
  const store = await provisionStore(database);
  // Recent timestamps: the raw bucket keeps 90 days, and older points are refused (422).
  const t0 = Math.floor((Date.now() - 7 * 86_400_000) / 60_000) * 60_000;
  const bodies: string[] = [];
  for (let i = 0; i < points; i += batch) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(points, i + batch); j++) {
      const dev = j % 500;
      lines.push(`energy,municipality=m${dev % 4},device=d${dev},district=x${dev % 7},building=b${dev % 50} energy_wh=${1e6 + j}.5,power_w=${j % 9000}.0,voltage_v=230.1 ${t0 + Math.floor(j / 500) * 60_000}`);
    }
    bodies.push(lines.join('\n'));
  }
  const url = `${store.INFLUX_URL}/api/v2/write?org=${store.INFLUX_ORG}&bucket=${encodeURIComponent(store.INFLUX_BUCKET)}&precision=ms`;
  const headers = { authorization: `Token ${store.tokens.writer}` };
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(url, { method: 'POST', body, headers });
      if (res.status !== 204) throw new Error(`bulk write: HTTP ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all([worker(), worker()]);
  const secs = (performance.now() - started) / 1000;
  return { points, pointsPerSec: points / secs, batch };
}
