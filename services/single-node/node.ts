/**
 * Every stage of the pipeline in one process — gateway, normaliser, writer, aggregator, KPI API
 * and page — on the bus and store of `openEngines`. The stages are the same code the separate
 * services run; each keeps its own configuration (from the same environment), metrics registry
 * and ops endpoints.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { type RunningWorker } from '../../shared/stages/worker.ts';
import { parseConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer, storeReadiness, type Readiness } from '../../shared/http/ops-server.ts';
import { createLogger, type Logger } from '../../shared/logging.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { AGGREGATE_MEASUREMENTS, RAW_MEASUREMENTS } from '../../shared/schemas/kinds.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { aggregatorEnv } from '../aggregator/config.ts';
import { startAggregator } from '../aggregator/aggregator.ts';
import { gatewayEnv } from '../gateway/config.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import { createGatewayMetrics } from '../gateway/metrics.ts';
import { buildKpiApp, type KpiApp } from '../kpi-api/app.ts';
import { kpiApiEnv } from '../kpi-api/config.ts';
import { Kpis } from '../kpi-api/kpis.ts';
import { normalizerEnv } from '../normalizer/config.ts';
import { startNormalizer } from '../normalizer/normalizer.ts';
import { writerEnv } from '../writer/config.ts';
import { startWriter } from '../writer/writer.ts';
import { opsPort, type SingleNodeConfig, type Stage } from './config.ts';
import { openEngines, type Engines } from './engines.ts';

const DAY_MS = 86_400_000;

/** Deletes raw points older than RAW_RETENTION_DAYS and aggregates older than AGG_RETENTION_DAYS. */
export function applyRetention(store: SqliteStore, cfg: Pick<SingleNodeConfig, 'RAW_RETENTION_DAYS' | 'AGG_RETENTION_DAYS'>, now: number): number {
  return store.deleteBefore(RAW_MEASUREMENTS, now - cfg.RAW_RETENTION_DAYS * DAY_MS) + store.deleteBefore(AGGREGATE_MEASUREMENTS, now - cfg.AGG_RETENTION_DAYS * DAY_MS);
}

export interface SingleNode {
  engines: Engines;
  gateway: Gateway;
  kpiApp: KpiApp;
  devices: DeviceRegistry;
  keys: ApiKeyStore;
  registries: Record<Stage, Registry>;
  /** Stops taking readings, drains every stage, closes the files. */
  stop(): Promise<void>;
}

export async function startSingleNode(cfg: SingleNodeConfig, env: NodeJS.ProcessEnv, opts: { logDestination?: Parameters<typeof createLogger>[2]; onFatal: (stage: Stage, err: Error) => void }): Promise<SingleNode> {
  const logger = (stage: Stage): Logger => createLogger(stage, cfg.LOG_LEVEL, opts.logDestination);
  // Each worker its own consumer group (a shared BUS_GROUP_ID would make them split partitions).
  const stageEnv = (stage: Stage) => ({ ...env, DATA_DIR: cfg.DATA_DIR, OPS_PORT: opsPort(cfg, stage), BUS_GROUP_ID: `${cfg.BUS_GROUP_PREFIX}${stage}`, WRITER_GROUP_ID: `${cfg.BUS_GROUP_PREFIX}writer` });
  const registries = Object.fromEntries(
    (['gateway', 'normalizer', 'writer', 'aggregator', 'kpi-api'] as const).map((s, i) => [s, createMetricsRegistry(s, { processMetrics: i === 0 })]),
  ) as Record<Stage, Registry>;
  const engines = openEngines(env, cfg.DATA_DIR, createLogger('bus', cfg.LOG_LEVEL, opts.logDestination));
  const { bus, store } = engines;
  const devices = new DeviceRegistry(join(cfg.DATA_DIR, 'devices.json'));
  const unwatch = devices.watch(() => undefined);
  const keys = new ApiKeyStore(join(cfg.DATA_DIR, 'api-keys.json'));
  const ops: { close(): Promise<void> }[] = [];
  const serveOps = async (stage: Stage, readiness: () => Readiness | Promise<Readiness>) => {
    const o = await startOpsServer({ port: Number(opsPort(cfg, stage)), host: '127.0.0.1', registry: registries[stage], readiness });
    ops.push(o.app);
  };

  const normalizerCfg = parseConfig(normalizerEnv, stageEnv('normalizer'));
  await bus.ensureTopics(pipelineTopics(normalizerCfg));

  // Downstream first, so the gateway's first acknowledged reading already has consumers.
  const deps = (stage: Stage) => ({ bus, log: logger(stage), registry: registries[stage], onFatal: (err: Error) => opts.onFatal(stage, err) });
  const normalizer = await startNormalizer(normalizerCfg, { ...deps('normalizer'), devices });
  await serveOps('normalizer', () => ({ ready: normalizer.consumer.joined(), detail: {} }));
  const writer = await startWriter(parseConfig(writerEnv, stageEnv('writer')), { ...deps('writer'), store });
  await serveOps('writer', storeReadiness(store, () => writer.consumer.joined()));
  const aggregator = await startAggregator(parseConfig(aggregatorEnv, stageEnv('aggregator')), { ...deps('aggregator'), store });
  await serveOps('aggregator', storeReadiness(store, () => aggregator.consumer.joined()));
  const workers: RunningWorker[] = [normalizer, writer, aggregator];

  const gatewayCfg = parseConfig(gatewayEnv, { ...stageEnv('gateway'), MQTT_PORT: String(cfg.MQTT_PORT), MQTT_HOST: cfg.MQTT_HOST, GATEWAY_ID: env.GATEWAY_ID ?? 'node-1', DEVICE_REGISTRY: devices.path });
  const gateway = await startGateway(gatewayCfg, { bus, log: logger('gateway'), metrics: createGatewayMetrics(registries.gateway) });
  await serveOps('gateway', () => ({ ready: gateway.forwarder.direct, detail: { bus: gateway.forwarder.direct ? 'direct' : 'spooling' } }));

  const kpiCfg = parseConfig(kpiApiEnv, { ...stageEnv('kpi-api'), HTTP_PORT: String(cfg.HTTP_PORT), HTTP_HOST: cfg.HTTP_HOST });
  const kpiApp = await buildKpiApp({
    kpis: new Kpis(store, () => devices.list().filter((d) => !d.revokedAt)),
    keys,
    log: logger('kpi-api'),
    registry: registries['kpi-api'],
    municipalities: () => [...new Set(devices.list().map((d) => d.municipality))].sort(),
    rateLimitPerMinute: kpiCfg.KPI_RATE_LIMIT_PER_MIN,
    authFailuresPerMinute: kpiCfg.KPI_AUTH_FAILURES_PER_MIN,
  });
  await kpiApp.listen({ port: kpiCfg.HTTP_PORT, host: kpiCfg.HTTP_HOST });
  await serveOps('kpi-api', storeReadiness(store));

  // The embedded store keeps raw readings and aggregates for their retention periods, like the buckets.
  const retention = store instanceof SqliteStore ? setInterval(() => applyRetention(store, cfg, Date.now()), 3_600_000).unref() : undefined;
  if (store instanceof SqliteStore) applyRetention(store, cfg, Date.now());

  return {
    engines,
    gateway,
    kpiApp,
    devices,
    keys,
    registries,
    async stop() {
      clearInterval(retention);
      await gateway.close();
      for (const w of workers) await w.stop();
      await kpiApp.close();
      for (const o of ops) await o.close();
      unwatch();
      await engines.close();
    },
  };
}
