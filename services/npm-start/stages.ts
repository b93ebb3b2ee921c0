/**
 * Starting some of the catalogue's stages on engines already open, in one thread: what both
 * threads of `npm start` do (`node.ts` for the ingest stages, `stages-thread.ts` for the workers).
 */
import type { Registry } from 'prom-client';
import type { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { parseConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer } from '../../shared/http/ops-server.ts';
import { createLogger, logFile, logFileLimits } from '../../shared/logging.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { defaultOpsPort, type RunningStage, type StageDefinition } from '../../shared/stages/stage.ts';
import type { SingleNodeConfig } from './config.ts';
import type { Engines } from './engines.ts';
import { CATALOGUE } from '../catalogue.ts';

/** A stage's ops port here: its service default moved by OPS_PORT_BASE (9100 keeps 9101…9105); 0 = any free port. */
const opsPortOf = (cfg: SingleNodeConfig, stage: StageDefinition) => (cfg.OPS_PORT_BASE === 0 ? 0 : cfg.OPS_PORT_BASE + (defaultOpsPort(stage) - 9100));

export interface StartedStages {
  registries: Record<string, Registry>;
  described: Record<string, Record<string, unknown>>;
  /** Stops them in the reverse of start order. */
  stop(): Promise<void>;
}

export interface StageContext {
  cfg: SingleNodeConfig;
  env: NodeJS.ProcessEnv;
  engines: Engines;
  devices: DeviceRegistry;
  keys: ApiKeyStore;
  /** Where the stages log (the console when absent). */
  logPath?: string | undefined;
  /** Gives the process's metrics (CPU, memory, event loop) to the first stage started. */
  processMetrics: boolean;
  onFatal: (stage: string, err: Error) => void;
}

export async function startStages(stages: StageDefinition[], c: StageContext): Promise<StartedStages> {
  const { cfg, env } = c;
  const logDestination = c.logPath === undefined ? undefined : logFile(c.logPath, logFileLimits(cfg));
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
    DEVICE_REGISTRY: c.devices.path,
    HTTP_PORT: String(cfg.HTTP_PORT),
    HTTP_HOST: cfg.HTTP_HOST,
    // Late readings are recomputed for as long as the embedded store keeps raw readings.
    REOPEN_HORIZON_MS: env.REOPEN_HORIZON_MS ?? String(cfg.RAW_RETENTION_DAYS * 86_400_000),
  });
  const stop = async () => {
    for (const r of [...running].reverse()) {
      await r.run.stop();
      await r.ops.close();
    }
  };
  try {
    for (const [i, stage] of stages.entries()) {
      const registry = (registries[stage.name] = createMetricsRegistry(stage.name, { processMetrics: c.processMetrics && i === 0 }));
      const run = await stage.start(parseConfig(stage.env, stageEnv(stage)), {
        log: createLogger(stage.name, cfg.LOG_LEVEL, logDestination),
        registry,
        onFatal: (err) => c.onFatal(stage.name, err),
        bus: () => c.engines.bus,
        store: () => c.engines.store,
        devices: () => c.devices,
        keys: () => c.keys,
        stages: () => CATALOGUE,
      });
      const ops = await startOpsServer({ port: opsPortOf(cfg, stage), host: '127.0.0.1', registry, readiness: () => run.readiness() });
      running.push({ stage: stage.name, run, ops: ops.app });
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { registries, described: Object.fromEntries(running.map((r) => [r.stage, r.run.describe])), stop };
}
