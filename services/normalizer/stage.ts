/** The normaliser in the stage catalogue. */
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { defineStage } from '../../shared/stages/stage.ts';
import { normalizerEnv } from './config.ts';
import { startNormalizer } from './normalizer.ts';

export const normalizerStage = defineStage({
  name: 'normalizer',
  env: normalizerEnv,
  singleNode: true,
  carriesReadings: true,
  async start(cfg, deps) {
    const bus = deps.bus();
    await bus.ensureTopics(pipelineTopics(cfg));
    const w = await startNormalizer(cfg, { bus, log: deps.log, registry: deps.registry, onFatal: deps.onFatal, devices: deps.devices() });
    return { readiness: () => ({ ready: w.consumer.joined(), detail: { group: cfg.BUS_GROUP_ID } }), stop: () => w.stop(), describe: { from: cfg.TOPIC_RAW, to: cfg.TOPIC_NORMALIZED } };
  },
});
