/** The aggregator in the stage catalogue. */
import { workerStage } from '../../shared/stages/worker-stage.ts';
import { startAggregator } from './aggregator.ts';
import { aggregatorEnv } from './config.ts';

export const aggregatorStage = workerStage({ name: 'aggregator', env: aggregatorEnv, usesStore: true, start: (cfg, worker, deps) => startAggregator(cfg, { ...worker, store: deps.store() }) });
