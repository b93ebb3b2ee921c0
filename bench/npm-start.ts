/**
 * `npm start` as the benchmarks run it: one process on its embedded log and store (no Kafka, no
 * InfluxDB), no simulator of its own, on ports of the benchmark's, ready once it prints its
 * "try a device" hint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_GATEWAY_ENV } from './launch.ts';

export interface BenchNpmStart {
  node: ChildProcess;
  mqttUrl: string;
  /** Its embedded store's database file (read-only lookups while it runs). */
  storePath: string;
  stop: () => Promise<void>;
}

export async function startBenchNpmStart(dataDir: string, ports: { mqtt: number; http: number; httpIngest: number; opsBase: number }): Promise<BenchNpmStart> {
  // The same gateway settings as the pipeline's (until 2026-12-07 only the login queue: its devices
  // were paced at the default 50 publishes a second each, which set its 1-reading ceiling).
  const env: NodeJS.ProcessEnv = { ...process.env, OPS_PORT_BASE: String(ports.opsBase), HTTP_INGEST_PORT: String(ports.httpIngest), LOG_LEVEL: 'warn', ...BENCH_GATEWAY_ENV };
  delete env.KAFKA_BROKERS;
  delete env.INFLUX_URL;
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof --cpu-prof-dir=…
  const node = spawn(process.execPath, [...nodeArgs, 'start.ts', '--no-simulate', '--data-dir', dataDir, '--mqtt-port', String(ports.mqtt), '--http-port', String(ports.http)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    node.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Try a device by hand')) resolve();
    });
    node.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  node.stdout.resume();
  return {
    node,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    storePath: join(dataDir, 'store.db'),
    stop: async () => {
      if (node.exitCode !== null) return;
      const exited = new Promise((r) => node.once('exit', r));
      node.kill('SIGTERM');
      await exited;
    },
  };
}
