/**
 * The second thread of `npm start`: the stages that work through the log — normaliser, writer,
 * aggregator — on engines of their own (the embedded log through the first thread's log writer,
 * so the file has one writer). The first thread keeps what devices and users talk to, so a
 * PUBACK never waits behind a worker's batch. The first thread calls it (`ThreadCalls`): `start`,
 * `metrics` of a stage, `stop`; a stage that stops for good is told as a `{ fatal }` notice.
 */
import { join } from 'node:path';
import { workerData, type MessagePort } from 'node:worker_threads';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { answerCalls } from '../../shared/thread-calls.ts';
import { createLogger, logFile, logFileLimits } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { niceThisThread } from '../../shared/thread-priority.ts';
import { CATALOGUE } from '../catalogue.ts';
import type { SingleNodeConfig } from './config.ts';
import { openEngines } from './engines.ts';
import { startStages, type StartedStages } from './stages.ts';

export interface StagesThreadData {
  cfg: SingleNodeConfig;
  env: NodeJS.ProcessEnv;
  stages: string[];
  logPath?: string | undefined;
  logWriter?: MessagePort | undefined;
}

export interface FatalNotice {
  fatal: { stage: string; message: string };
}

const d = workerData as StagesThreadData;
// First, so the store's writer thread, started from here, inherits it.
const priority = niceThisThread(d.cfg.STAGES_NICE);
const engines = openEngines(d.env, d.cfg.DATA_DIR, createLogger('bus', d.cfg.LOG_LEVEL), { logWriter: d.logWriter });
const devices = new DeviceRegistry(join(d.cfg.DATA_DIR, 'devices.json'));
// Devices added while running (the first thread registers them) reach the normaliser here.
const unwatch = devices.watch(() => undefined);
const keys = new ApiKeyStore(join(d.cfg.DATA_DIR, 'api-keys.json'));
let started: StartedStages | undefined;

export const stagesThreadCalls = {
  /** Starts the stages; answers what each says of itself. */
  start: async () => {
    const fatal = (stage: string, err: Error) => notify({ fatal: { stage, message: err.message } } satisfies FatalNotice);
    started = await startStages(
      CATALOGUE.filter((s) => d.stages.includes(s.name)),
      { cfg: d.cfg, env: d.env, engines, devices, keys, logPath: d.logPath, processMetrics: false, onFatal: fatal },
    );
    createLogger('npm-start', d.cfg.LOG_LEVEL, d.logPath === undefined ? undefined : logFile(d.logPath, logFileLimits(d.cfg))).info({ stages: d.stages, priority }, 'stages thread started');
    return started.described;
  },
  metrics: async (stage: string) => (await started?.registries[stage]?.metrics()) ?? '',
  /** Drains and stops the stages, closes the engines. */
  stop: async () => {
    await started?.stop();
    unwatch();
    await engines.close();
  },
};

const notify = answerCalls(stagesThreadCalls);
