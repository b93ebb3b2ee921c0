/**
 * A whole pipeline for one test, on the real Kafka and InfluxDB: its own topics, consumer groups,
 * InfluxDB database and data directory, so tests never see each other's data. Workers run
 * in-process, or as child processes (`npm run service -- NAME`) for kill tests.
 */
import type { ChildProcess } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionStore, storeEnvFor, type StoreAccess } from '../../engines/influxdb.ts';
import { parseConfig } from '../../shared/config.ts';
import { openBus } from '../../shared/engines.ts';
import { influxEnv } from '../../shared/influx/settings.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { secureClientEnv } from '../../engines/kafka.ts';
import { createMetricsRegistry } from '../../shared/http/ops-server.ts';
import type { RunningStage } from '../../shared/stages/stage.ts';
import { CATALOGUE, stageNamed } from '../../services/catalogue.ts';
import type { Bus } from '../../shared/bus/bus.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { normalizerEnv } from '../../services/normalizer/config.ts';
import { startTestGateway, type TestGateway } from './gateway.ts';
import { engineEnv, grantTestAcls, testKafka, unique } from './services.ts';
import { spawnService } from './spawn.ts';

export type WorkerName = 'normalizer' | 'writer' | 'aggregator' | 'alarms';
const WORKERS: readonly WorkerName[] = ['normalizer', 'writer', 'aggregator', 'alarms'];

export type { RunningStage };

export interface Pipeline {
  env: Record<string, string>;
  /** The Kafka it runs on, through the operator's listener (for reading back and diagnostics). */
  kafka: Kafka;
  gw: TestGateway;
  /** For reading back with Flux, with the operator's token (raw and aggregates buckets). */
  store: InfluxTelemetryStore;
  /** The store as the KPI API sees it: its own read-only token. */
  telemetry: InfluxTelemetryStore;
  /** The buckets and each service's least-privilege token; every stage runs with its own. */
  access: StoreAccess;
  /** A store with `service`'s token, as that service would have in production. */
  storeFor(service: string): InfluxTelemetryStore;
  bucket: string;
  aggBucket: string;
  /** Metrics registries of the in-process gateway and workers (what their /metrics would serve). */
  registries: { service: string; registry: Registry }[];
  /** Starts one more in-process worker of that kind (same group). */
  startWorker(name: WorkerName): Promise<RunningStage>;
  /** Starts a worker as its own process. */
  spawnWorker(name: WorkerName): Promise<ChildProcess>;
  close(): Promise<void>;
}

export interface PipelineOptions {
  inProcess?: WorkerName[];
  extraEnv?: Record<string, string>;
  /** Another Kafka than the shared one (its PLAINTEXT listeners, no logins): e.g. a test's own cluster. */
  kafka?: { brokers: string; admin: Kafka };
}

export async function startPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const id = unique('p');
  const access = await provisionStore(id.replace(/-/g, '_'));
  const dataDir = mkdtempSync(join(tmpdir(), 'pipeline-'));
  const env: Record<string, string> = {
    ...engineEnv(),
    ...storeEnvFor(access, 'kpi-api'),
    INFLUX_TOKEN: '', // each stage gets its own below
    DATA_DIR: dataDir,
    TOPIC_RAW: `${id}.raw`,
    TOPIC_NORMALIZED: `${id}.normalized`,
    TOPIC_DEADLETTER: `${id}.deadletter`,
    BUS_PARTITIONS: '4',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    IDLE_CLOSE_MS: '2000',
    BUS_SESSION_TIMEOUT_MS: '10000', // a killed worker's partitions move on sooner
    OPS_PORT: '0',
    ...opts.extraEnv,
  };
  for (const name of WORKERS) env[`${name.toUpperCase()}_GROUP`] = `${id}-${name}`;
  env.WRITER_GROUP_ID = env.WRITER_GROUP!; // the aggregator waits for this group before recomputing late windows
  if (opts.kafka) env.KAFKA_BROKERS = opts.kafka.brokers;
  const kafkaCfg = parseConfig(normalizerEnv, env);
  await ensureTopics(opts.kafka?.admin ?? testKafka(), pipelineTopics(kafkaCfg));
  // Every stage logs in to Kafka's SASL_SSL listener as its own principal, with only its ACLs.
  const plaintext = { KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', KAFKA_SASL_USERNAME: '', KAFKA_SASL_PASSWORD: '', KAFKA_SSL_CA: '' };
  const login = (service: 'gateway' | WorkerName): Record<string, string> => (opts.kafka ? plaintext : secureClientEnv(service));
  if (!opts.kafka) await grantTestAcls(env);
  const gw = await startTestGateway({ ...env, ...login('gateway'), TOPIC_RAW: env.TOPIC_RAW! }, {}, opts.kafka?.admin);
  const storeFor = (service: string) => new InfluxTelemetryStore(parseConfig(influxEnv, { ...env, ...storeEnvFor(access, service) }));
  const store = new InfluxTelemetryStore(parseConfig(influxEnv, { ...env, INFLUX_TOKEN: access.operatorToken }));
  const telemetry = storeFor('kpi-api');
  const running: RunningStage[] = [];
  const registries = [{ service: 'gateway', registry: gw.metrics }];
  const children: ChildProcess[] = [];
  const buses: Bus[] = [];

  const groupEnv = (name: WorkerName): Record<string, string> => ({
    ...env,
    ...login(name),
    BUS_GROUP_ID: env[`${name.toUpperCase()}_GROUP`]!,
    INFLUX_TOKEN: access.tokens[name] ?? '', // the normaliser has no store rights, so no token
  });

  async function startWorker(name: WorkerName) {
    const e = groupEnv(name);
    const stage = stageNamed(name)!;
    const log = createLogger(`${name}-test`, e.LOG_LEVEL);
    const registry = createMetricsRegistry(name);
    registries.push({ service: name, registry });
    const bus = openBus(e, { service: `${name}-test`, log }).engine;
    buses.push(bus);
    // The same catalogue entry `npm run service` and `npm start` run, on this test's engines.
    const w = await stage.start(parseConfig(stage.env, e), {
      log,
      registry,
      onFatal: (err) => {
        throw new Error(`${name} consumer stopped for good: ${err.message}`);
      },
      bus: () => bus,
      store: () => (name === 'normalizer' ? telemetry : storeFor(name)),
      devices: () => new DeviceRegistry(gw.registryPath),
      stages: () => CATALOGUE,
      keys: () => {
        throw new Error('workers use no API keys');
      },
    });
    running.push(w);
    return w;
  }

  async function spawnWorker(name: WorkerName): Promise<ChildProcess> {
    const { child } = await spawnService(name, { ...groupEnv(name), LOG_LEVEL: 'info', DEVICE_REGISTRY: gw.registryPath }, (l) => l.includes(`${name} running`));
    children.push(child);
    return child;
  }

  for (const name of opts.inProcess ?? ['normalizer', 'writer', 'aggregator']) await startWorker(name);

  return {
    env,
    kafka: opts.kafka?.admin ?? testKafka(),
    gw,
    store,
    telemetry,
    access,
    storeFor,
    bucket: access.INFLUX_BUCKET,
    aggBucket: access.INFLUX_AGG_BUCKET,
    registries,
    startWorker,
    spawnWorker,
    async close() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await Promise.all(running.map((w) => w.stop().catch(() => undefined)));
      await Promise.all(buses.map((b) => b.close()));
      await gw.close();
    },
  };
}
