/** The aggregator in the stage catalogue. */
import { workerStage } from '../../shared/stages/worker-stage.ts';
import { startAggregator } from './aggregator.ts';
import { aggregatorEnv } from './config.ts';

export const aggregatorStage = workerStage({
  name: 'aggregator',
  env: aggregatorEnv,
  // It reads the writer's committed offsets, and the raw readings, before recomputing a window from the store.
  rights: { consumes: ['normalized'], produces: ['deadletter'], watchesGroupsOf: ['writer'], store: { read: ['raw', 'aggregates'], write: ['aggregates'] } },
  deadLetterStage: 'aggregate',
  start: (cfg, worker, deps) => startAggregator(cfg, { ...worker, store: deps.store() }),
});
