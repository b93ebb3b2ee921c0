/** The writer in the stage catalogue. */
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { storeReadiness } from '../../shared/http/ops-server.ts';
import { defineStage } from '../../shared/stages/stage.ts';
import { writerEnv } from './config.ts';
import { startWriter } from './writer.ts';

export const writerStage = defineStage({
  name: 'writer',
  env: writerEnv,
  singleNode: true,
  carriesReadings: true,
  async start(cfg, deps) {
    const bus = deps.bus();
    const store = deps.store();
    await bus.ensureTopics(pipelineTopics(cfg));
    const w = await startWriter(cfg, { bus, log: deps.log, registry: deps.registry, onFatal: deps.onFatal, store });
    return { readiness: storeReadiness(store, () => w.consumer.joined()), stop: () => w.stop(), describe: { from: cfg.TOPIC_NORMALIZED, store: store.kind } };
  },
});
