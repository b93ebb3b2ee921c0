/**
 * A stream worker as a catalogue stage: ensure the pipeline's topics, start the worker on the
 * bus (and the store, for the writer and the aggregator), ready once it has joined its group (and
 * the store answers). The normaliser, writer and aggregator differ only in the worker they start.
 */
import type { z } from 'zod';
import { pipelineTopics } from '../bus/topics.ts';
import { storeReadiness } from '../http/ops-server.ts';
import { defineStage, type StageDeps, type StageDefinition } from './stage.ts';
import type { RunningWorker, WorkerDeps, workerEnv } from './worker.ts';

type WorkerShape = ReturnType<typeof workerEnv> & z.ZodRawShape;
/** The settings every worker has (topics, partitions, group). */
type WorkerSettings = { TOPIC_RAW: string; TOPIC_NORMALIZED: string; TOPIC_DEADLETTER: string; BUS_PARTITIONS: number; KAFKA_REPLICATION_FACTOR: number; BUS_GROUP_ID: string };

export function workerStage<S extends WorkerShape>(o: {
  name: string;
  env: S;
  /** The store is part of its readiness (writer, aggregator). */
  usesStore: boolean;
  start: (cfg: z.infer<z.ZodObject<S>>, worker: WorkerDeps, deps: StageDeps) => Promise<RunningWorker>;
}): StageDefinition<S> {
  return defineStage({
    name: o.name,
    env: o.env,
    singleNode: true,
    carriesReadings: true,
    async start(cfg, deps) {
      const c = cfg as unknown as WorkerSettings;
      const bus = deps.bus();
      await bus.ensureTopics(pipelineTopics(c));
      const w = await o.start(cfg, { bus, log: deps.log, registry: deps.registry, onFatal: deps.onFatal }, deps);
      const joined = () => w.consumer.joined();
      return {
        readiness: o.usesStore ? storeReadiness(deps.store(), joined) : () => ({ ready: joined(), detail: { group: c.BUS_GROUP_ID } }),
        stop: () => w.stop(),
        describe: { group: c.BUS_GROUP_ID },
      };
    },
  });
}
