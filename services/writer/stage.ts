/** The writer in the stage catalogue. */
import { workerStage } from '../../shared/stages/worker-stage.ts';
import { writerEnv } from './config.ts';
import { startWriter } from './writer.ts';

export const writerStage = workerStage({
  name: 'writer',
  env: writerEnv,
  // Raw readings in; nothing read back (its idempotence is the store's series + timestamp).
  rights: { consumes: ['normalized'], produces: ['deadletter'], store: { read: [], write: ['raw'] } },
  deadLetterStage: 'write',
  status: { stored: 'writer_points_written_total' },
  start: (cfg, worker, deps) => startWriter(cfg, { ...worker, store: deps.store() }),
});
