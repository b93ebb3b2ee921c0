/**
 * Every stage of the catalogue marked for the single process — gateway, normaliser, writer,
 * aggregator, KPI API and page — in one process, on the bus and store of `openEngines`. The
 * stages are the same code the separate services run; each keeps its own configuration (from the
 * same environment), metrics registry and ops endpoints.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { parseConfig } from '../../shared/config.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { createMetricsRegistry, startOpsServer } from '../../shared/http/ops-server.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { AGGREGATE_MEASUREMENTS, RAW_MEASUREMENTS } from '../../shared/schemas/kinds.ts';
import type { RunningStage, StageDefinition } from '../../shared/stages/stage.ts';
import { CATALOGUE } from '../catalogue.ts';
import type { SingleNodeConfig } from './config.ts';
import { openEngines, type Engines } from './engines.ts';

const DAY_MS = 86_400_000;

/** The stages `npm start` runs, in start order. */
export const SINGLE_NODE_STAGES: StageDefinition[] = CATALOGUE.filter((s) => s.singleNode);

/** Deletes raw points older than RAW_RETENTION_DAYS and aggregates older than AGG_RETENTION_DAYS. */
export function applyRetention(store: SqliteStore, cfg: Pick<SingleNodeConfig, 'RAW_RETENTION_DAYS' | 'AGG_RETENTION_DAYS'>, now: number): number {
  return store.deleteBefore(RAW_MEASUREMENTS, now - cfg.RAW_RETENTION_DAYS * DAY_MS) + store.deleteBefore(AGGREGATE_MEASUREMENTS, now - cfg.AGG_RETENTION_DAYS * DAY_MS);
}

/** A stage's ops port here: its service default moved by OPS_PORT_BASE (9100 keeps 9101…9105); 0 = any free port. */
const opsPortOf = (cfg: SingleNodeConfig, stage: StageDefinition) => (cfg.OPS_PORT_BASE === 0 ? 0 : cfg.OPS_PORT_BASE + ((parseConfig(stage.env, {}) as { OPS_PORT: number }).OPS_PORT - 9100));

export interface SingleNode {
  engines: Engines;
  devices: DeviceRegistry;
  keys: ApiKeyStore;
  /** Each stage's metrics, by stage name. */
  registries: Record<string, Registry>;
  /** What each stage says of itself once started (its listening ports, …), by stage name. */
  described: Record<string, Record<string, unknown>>;
  /** Stops taking readings, drains every stage, closes the files. */
  stop(): Promise<void>;
}

export async function startSingleNode(cfg: SingleNodeConfig, env: NodeJS.ProcessEnv, opts: { logDestination?: Parameters<typeof createLogger>[2]; onFatal: (stage: string, err: Error) => void }): Promise<SingleNode> {
  const engines = openEngines(env, cfg.DATA_DIR, createLogger('bus', cfg.LOG_LEVEL, opts.logDestination));
  const devices = new DeviceRegistry(join(cfg.DATA_DIR, 'devices.json'));
  const unwatch = devices.watch(() => undefined);
  const keys = new ApiKeyStore(join(cfg.DATA_DIR, 'api-keys.json'));
  const registries: Record<string, Registry> = {};
  const running: { stage: string; run: RunningStage; ops: { close(): Promise<void> } }[] = [];

  // Each stage's settings: the environment, with what one process must set per stage — its own
  // consumer group (a shared one would split the partitions between stages), ops port, listeners.
  const stageEnv = (stage: StageDefinition): NodeJS.ProcessEnv => ({
    ...env,
    DATA_DIR: cfg.DATA_DIR,
    OPS_PORT: String(opsPortOf(cfg, stage)),
    BUS_GROUP_ID: `${cfg.BUS_GROUP_PREFIX}${stage.name}`,
    WRITER_GROUP_ID: `${cfg.BUS_GROUP_PREFIX}writer`,
    MQTT_PORT: String(cfg.MQTT_PORT),
    MQTT_HOST: cfg.MQTT_HOST,
    HTTP_INGEST_PORT: String(cfg.HTTP_INGEST_PORT),
    HTTP_INGEST_HOST: cfg.MQTT_HOST,
    GATEWAY_ID: env.GATEWAY_ID ?? 'node-1',
    DEVICE_REGISTRY: devices.path,
    HTTP_PORT: String(cfg.HTTP_PORT),
    HTTP_HOST: cfg.HTTP_HOST,
  });

  for (const [i, stage] of SINGLE_NODE_STAGES.entries()) {
    const registry = (registries[stage.name] = createMetricsRegistry(stage.name, { processMetrics: i === 0 }));
    const run = await stage.start(parseConfig(stage.env, stageEnv(stage)), {
      log: createLogger(stage.name, cfg.LOG_LEVEL, opts.logDestination),
      registry,
      onFatal: (err) => opts.onFatal(stage.name, err),
      bus: () => engines.bus,
      store: () => engines.store,
      devices: () => devices,
      keys: () => keys,
    });
    const ops = await startOpsServer({ port: opsPortOf(cfg, stage), host: '127.0.0.1', registry, readiness: () => run.readiness() });
    running.push({ stage: stage.name, run, ops: ops.app });
  }

  // The embedded store keeps raw readings and aggregates for their retention periods, like the buckets.
  const { store } = engines;
  const retention = store instanceof SqliteStore ? setInterval(() => applyRetention(store, cfg, Date.now()), 3_600_000).unref() : undefined;
  if (store instanceof SqliteStore) applyRetention(store, cfg, Date.now());

  return {
    engines,
    devices,
    keys,
    registries,
    described: Object.fromEntries(running.map((r) => [r.stage, r.run.describe])),
    async stop() {
      clearInterval(retention);
      // The gateway first (it stops taking readings), then downstream: the reverse of start order.
      for (const r of [...running].reverse()) {
        await r.run.stop();
        await r.ops.close();
      }
      unwatch();
      await engines.close();
    },
  };
}
