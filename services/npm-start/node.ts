/**
 * Every stage of the catalogue marked for the single process — gateway, normaliser, writer,
 * aggregator, KPI API and page — in one process, on the bus and store of `openEngines`. The
 * stages are the same code the separate services run; each keeps its own configuration (from the
 * same environment), metrics registry and ops endpoints.
 *
 * Two threads: this one runs what devices and users talk to (gateway, KPI API and page: a stage's
 * `thread` is `front`); the stages that work through the log (`log`) run in `stages-thread.ts`. One event loop for all of them made
 * every PUBACK wait behind the workers' batches; with two, each has a core of the machine's.
 */
import { join } from 'node:path';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { ConfigError } from '../../shared/config-error.ts';
import { SqliteBus } from '../../shared/embedded/sqlite-bus.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { ThreadCalls } from '../../shared/thread-calls.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { AGGREGATE_MEASUREMENTS, RAW_MEASUREMENTS } from '../../shared/schemas/kinds.ts';
import type { StageDefinition } from '../../shared/stages/stage.ts';
import { CATALOGUE } from '../catalogue.ts';
import type { SingleNodeConfig } from './config.ts';
import { openEngines, type Engines } from './engines.ts';
import { startStages, type StartedStages } from './stages.ts';
import type { FatalNotice, StagesThreadData, stagesThreadCalls } from './stages-thread.ts';

const DAY_MS = 86_400_000;

/** The stages `npm start` runs, in start order. */
export const SINGLE_NODE_STAGES: StageDefinition[] = CATALOGUE.filter((s) => s.singleNode);

/** The stages of `npm start` on one of its two threads. */
export const stagesOnThread = (stages: readonly StageDefinition[], thread: StageDefinition['thread']) => stages.filter((s) => s.singleNode && s.thread === thread);

/** Deletes raw points older than RAW_RETENTION_DAYS and aggregates older than AGG_RETENTION_DAYS. */
export function applyRetention(store: SqliteStore, cfg: Pick<SingleNodeConfig, 'RAW_RETENTION_DAYS' | 'AGG_RETENTION_DAYS'>, now: number): number {
  return store.deleteBefore(RAW_MEASUREMENTS, now - cfg.RAW_RETENTION_DAYS * DAY_MS) + store.deleteBefore(AGGREGATE_MEASUREMENTS, now - cfg.AGG_RETENTION_DAYS * DAY_MS);
}

export interface SingleNode {
  engines: Engines;
  devices: DeviceRegistry;
  keys: ApiKeyStore;
  /** A stage's metrics (Prometheus text), whichever thread it runs in. */
  metrics: (stage: string) => Promise<string>;
  /** What each stage says of itself once started (its listening ports, …), by stage name. */
  described: Record<string, Record<string, unknown>>;
  /** Stops taking readings, drains every stage, closes the files. */
  stop(): Promise<void>;
}

/** The second thread, started: its stages are running once this resolves. */
async function startStagesThread(data: StagesThreadData, onFatal: (stage: string, err: Error) => void) {
  let stopping = false;
  const thread = new ThreadCalls<typeof stagesThreadCalls>(
    { script: new URL('./stages-thread.ts', import.meta.url), workerData: data, transferList: data.logWriter ? [data.logWriter] : [] },
    (n) => onFatal((n as FatalNotice).fatal.stage, new Error((n as FatalNotice).fatal.message)),
    (why) => stopping || onFatal('stages thread', new Error(why)),
  );
  let described;
  try {
    described = await thread.call('start', undefined);
  } catch (err) {
    await thread.close();
    // A bad setting of a stage says so in one line, as one of `npm start` itself does.
    throw (err as Error).name === 'ConfigError' ? new ConfigError((err as Error).message) : err;
  }
  return {
    described,
    metrics: (stage: string) => thread.call('metrics', stage),
    async stop() {
      stopping = true;
      await thread.call('stop', undefined);
      await thread.close();
    },
  };
}

export async function startSingleNode(cfg: SingleNodeConfig, env: NodeJS.ProcessEnv, opts: { logPath?: string; onFatal: (stage: string, err: Error) => void }): Promise<SingleNode> {
  const engines = openEngines(env, cfg.DATA_DIR, createLogger('bus', cfg.LOG_LEVEL));
  const devices = new DeviceRegistry(join(cfg.DATA_DIR, 'devices.json'));
  const unwatch = devices.watch(() => undefined);
  const keys = new ApiKeyStore(join(cfg.DATA_DIR, 'api-keys.json'));

  // Downstream first (the catalogue's order): the workers are consuming before the gateway takes a reading.
  const workers = await startStagesThread(
    {
      cfg,
      env,
      stages: stagesOnThread(SINGLE_NODE_STAGES, 'log').map((s) => s.name),
      logPath: opts.logPath,
      logWriter: engines.bus instanceof SqliteBus ? engines.bus.connectWriter() : undefined,
    },
    opts.onFatal,
  );
  let here: StartedStages;
  try {
    here = await startStages(
      stagesOnThread(SINGLE_NODE_STAGES, 'front'),
      { cfg, env, engines, devices, keys, logPath: opts.logPath, processMetrics: true, onFatal: opts.onFatal },
    );
  } catch (err) {
    await workers.stop();
    throw err;
  }

  // The embedded store keeps raw readings and aggregates for their retention periods, like the buckets.
  const { store } = engines;
  const retention = store instanceof SqliteStore ? setInterval(() => applyRetention(store, cfg, Date.now()), 3_600_000).unref() : undefined;
  if (store instanceof SqliteStore) applyRetention(store, cfg, Date.now());

  return {
    engines,
    devices,
    keys,
    metrics: (stage) => here.registries[stage]?.metrics() ?? workers.metrics(stage),
    described: { ...workers.described, ...here.described },
    async stop() {
      clearInterval(retention);
      // The gateway first (it stops taking readings), then downstream: the reverse of start order.
      await here.stop();
      await workers.stop();
      unwatch();
      await engines.close();
    },
  };
}
