/**
 * The pipeline as the benchmarks run it: every service its own process (`npm run service -- NAME`)
 * on the local Kafka and InfluxDB, on topics, groups and buckets of the run's own, each service
 * with its own least-privilege InfluxDB token.
 */
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionStore, storeEnvFor, type StoreAccess } from '../engines/influxdb.ts';
import { BENCH_GATEWAY_ENV, launchServices, PIPELINE_SERVICES, type LaunchedServices } from './launch.ts';

export const BENCH_MQTT_PORT = 18830;
/** Each stage on a reading's path gets an ops port of the bench's own range, in catalogue order. */
export const BENCH_OPS_PORTS: Record<string, string> = Object.fromEntries(PIPELINE_SERVICES.map((name, i) => [name, String(19201 + i)]));

export interface BenchPipeline {
  services: LaunchedServices;
  access: StoreAccess;
  dataDir: string;
  mqttUrl: string;
}

/** `engineEnv`: where Kafka and InfluxDB are (no tokens); `id`: the run's name for topics, groups and buckets. */
export async function startBenchPipeline(engineEnv: Record<string, string>, id: string, partitions: number): Promise<BenchPipeline> {
  const access = await provisionStore(id.replace(/-/g, '_'));
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-'));
  const env: Record<string, string> = {
    ...engineEnv,
    ...storeEnvFor(access, 'writer'),
    DATA_DIR: dataDir,
    TOPIC_RAW: `${id}.raw`,
    TOPIC_NORMALIZED: `${id}.normalized`,
    TOPIC_DEADLETTER: `${id}.deadletter`,
    BUS_PARTITIONS: String(partitions),
    LOG_LEVEL: 'warn',
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(BENCH_MQTT_PORT),
    ...BENCH_GATEWAY_ENV,
    IDLE_CLOSE_MS: '5000',
  };
  const services = await launchServices({
    env,
    opsPorts: BENCH_OPS_PORTS,
    envFor: (name) => ({
      BUS_GROUP_ID: `${id}-${name}`,
      WRITER_GROUP_ID: `${id}-writer`,
      // Each service with its own least-privilege token, as in production.
      INFLUX_TOKEN: access.tokens[name] ?? '', // the gateway and normaliser have no store rights
    }),
    output: (name) => (process.env.BENCH_LOGS ? createWriteStream(join(dataDir, `${name}.log`)) : 'stderr'),
    nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean), // e.g. --cpu-prof --cpu-prof-dir=…
  });
  return { services, access, dataDir, mqttUrl: `mqtt://127.0.0.1:${BENCH_MQTT_PORT}` };
}
