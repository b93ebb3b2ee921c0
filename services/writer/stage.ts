/** The writer in the stage catalogue. */
import { workerStage } from '../../shared/stages/worker-stage.ts';
import { writerEnv } from './config.ts';
import { startWriter } from './writer.ts';

export const writerStage = workerStage({ name: 'writer', env: writerEnv, usesStore: true, start: (cfg, worker, deps) => startWriter(cfg, { ...worker, store: deps.store() }) });
