/**
 * The second thread of `npm start`: the stages that work through the log — normaliser, writer,
 * aggregator — on engines of their own (the embedded log through the first thread's log writer,
 * so the file has one writer). The first thread keeps what devices and users talk to, so a
 * PUBACK never waits behind a worker's batch.
 *
 * Messages from the first thread: `{ stop: true }` (drain and close; answered `{ stopped: true }`)
 * and `{ metrics: id, stage }` (answered with that stage's metrics text). To it: `{ started }`,
 * `{ failed }` and `{ fatal }`.
 */
import { join } from 'node:path';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { ConfigError } from '../../shared/config-error.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
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

export type FromStagesThread =
  | { started: Record<string, Record<string, unknown>> }
  | { failed: { message: string; config: boolean; code?: string; port?: number } }
  | { fatal: { stage: string; message: string } }
  | { metrics: number; text: string }
  | { stopped: true };

export type ToStagesThread = { stop: true } | { metrics: number; stage: string };

const port = parentPort!;
const post = (m: FromStagesThread) => port.postMessage(m);
const d = workerData as StagesThreadData;
const engines = openEngines(d.env, d.cfg.DATA_DIR, createLogger('bus', d.cfg.LOG_LEVEL), { logWriter: d.logWriter });
const devices = new DeviceRegistry(join(d.cfg.DATA_DIR, 'devices.json'));
// Devices added while running (the first thread registers them) reach the normaliser here.
const unwatch = devices.watch(() => undefined);
const keys = new ApiKeyStore(join(d.cfg.DATA_DIR, 'api-keys.json'));

let started: StartedStages | undefined;
try {
  started = await startStages(
    CATALOGUE.filter((s) => d.stages.includes(s.name)),
    { cfg: d.cfg, env: d.env, engines, devices, keys, logPath: d.logPath, processMetrics: false, onFatal: (stage, err) => post({ fatal: { stage, message: err.message } }) },
  );
  post({ started: started.described });
} catch (err) {
  const e = err as NodeJS.ErrnoException & { port?: number };
  post({ failed: { message: e.message, config: err instanceof ConfigError, ...(e.code ? { code: e.code } : {}), ...(e.port ? { port: e.port } : {}) } });
}

port.on('message', (m: ToStagesThread) => {
  if ('stop' in m) {
    void (async () => {
      await started?.stop();
      unwatch();
      await engines.close();
      post({ stopped: true });
    })();
  } else {
    void (started?.registries[m.stage]?.metrics() ?? Promise.resolve('')).then((text) => post({ metrics: m.metrics, text }));
  }
});
