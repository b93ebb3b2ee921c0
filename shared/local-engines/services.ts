/** `up`, `down` and `status` of the local real engines, used by the CLI and the test harness. */
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_VERSION, INFLUX_VERSION, influxDatabase, kafkaPort, influxPort } from './paths.ts';
import { portOpen } from './process.ts';
import * as kafka from './kafka.ts';
import * as influx from './influxdb.ts';
import { ensureTopics } from '../kafka/topics.ts';
import { pipelineTopics } from '../bus/topics.ts';
import { parseConfig, busEnv } from '../config.ts';

/** The environment that points every service at the local engines (docs/architecture.md). */
export function serviceEnv(): Record<string, string> {
  return {
    KAFKA_BROKERS: kafka.kafkaBrokers(),
    INFLUX_URL: influx.influxUrl(),
    INFLUX_TOKEN: '',
    INFLUX_ORG: 'smartcity',
    INFLUX_BUCKET: `${influxDatabase}/autogen`,
  };
}

export interface UpOptions {
  clean?: boolean;
  log?: (line: string) => void;
}

export async function up({ clean = false, log = () => undefined }: UpOptions = {}): Promise<{ started: string[] }> {
  const started: string[] = [];
  const t0 = Date.now();
  // Install both first (each is cached), then start both so their start-up overlaps.
  if (!kafka.kafkaInstalled()) log(`installing Kafka ${KAFKA_VERSION} jars from Maven Central (once)…`);
  kafka.installKafka();
  if (!influx.influxInstalled()) log(`building InfluxDB ${INFLUX_VERSION} from its Go module (once, ~1-3 min)…`);
  influx.installInflux();

  if (kafka.kafkaPid() === undefined) {
    await kafka.startKafka({ clean });
    started.push('kafka');
  }
  if (influx.influxPid() === undefined) {
    await influx.startInflux({ clean });
    started.push('influxdb');
  }
  await Promise.all([kafka.waitKafkaReady(), influx.waitInfluxReady()]);
  await influx.createDatabase();
  const cfg = parseConfig(busEnv, { ...process.env, KAFKA_BROKERS: kafka.kafkaBrokers() });
  const client = new Kafka({ brokers: [kafka.kafkaBrokers()], logLevel: logLevel.NOTHING });
  const created = await ensureTopics(client, pipelineTopics(cfg));
  if (created.length > 0) log(`created topics: ${created.join(', ')}`);
  log(`services ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return { started };
}

export async function down(only?: string[]): Promise<string[]> {
  const stopped: string[] = [];
  if ((!only || only.includes('influxdb')) && (await influx.stopInflux())) stopped.push('influxdb');
  if ((!only || only.includes('kafka')) && (await kafka.stopKafka())) stopped.push('kafka');
  return stopped;
}

export interface ServiceStatus {
  name: string;
  version: string;
  address: string;
  running: boolean;
  pid: number | undefined;
}

export async function status(): Promise<ServiceStatus[]> {
  const influxVersion = await influx.influxVersion();
  return [
    {
      name: 'kafka',
      version: KAFKA_VERSION,
      address: kafka.kafkaBrokers(),
      pid: kafka.kafkaPid(),
      running: await portOpen(kafkaPort),
    },
    {
      name: 'influxdb',
      version: influxVersion ?? INFLUX_VERSION,
      address: influx.influxUrl(),
      pid: influx.influxPid(),
      running: await portOpen(influxPort),
    },
  ];
}

export { kafka, influx };
