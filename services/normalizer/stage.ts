/** The normaliser in the stage catalogue. */
import { workerStage } from '../../shared/stages/worker-stage.ts';
import { normalizerEnv } from './config.ts';
import { startNormalizer } from './normalizer.ts';

export const normalizerStage = workerStage({
  name: 'normalizer',
  env: normalizerEnv,
  rights: { consumes: ['raw'], produces: ['normalized', 'deadletter'], devices: 'read' },
  deadLetterStage: 'normalize',
  start: (cfg, worker, deps) => startNormalizer(cfg, { ...worker, devices: deps.devices() }),
});
