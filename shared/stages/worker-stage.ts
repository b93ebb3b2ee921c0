/**
 * A stream worker as a catalogue stage: ensure the pipeline's topics, start the worker on the
 * bus (and the store, for those with store rights), ready once it has joined its group (and the
 * store answers). The normaliser, writer and aggregator differ only in the worker they start and
 * the rights they declare.
 */
import type { z } from 'zod';
import { pipelineTopics } from '../bus/topics.ts';
import { storeReadiness } from '../http/ops-server.ts';
import { defineStage, type StageDeps, type StageDefinition, type StageRights, type StatusMetrics } from './stage.ts';
import type { RunningWorker, WorkerDeps, workerEnv } from './worker.ts';

type WorkerShape = ReturnType<typeof workerEnv> & z.ZodRawShape;
/** The settings every worker has (topics, partitions, group). */
type WorkerSettings = { TOPIC_RAW: string; TOPIC_NORMALIZED: string; TOPIC_DEADLETTER: string; BUS_PARTITIONS: number; KAFKA_REPLICATION_FACTOR: number; BUS_GROUP_ID: string };

export function workerStage<S extends WorkerShape>(o: {
  name: string;
  env: S;
  /** What it may touch; a worker with store rights has the store in its readiness. */
  rights: StageRights;
  /** What its dead letters say in `stage`. */
  deadLetterStage: string;
  /** On the path of every reading (the benchmark launches it); true unless said. */
  carriesReadings?: boolean;
  /** Part of `npm start`'s single process; true unless said. */
  singleNode?: boolean;
  /** Beyond its dead letters, which every worker counts. */
  status?: StatusMetrics;
  start: (cfg: z.infer<z.ZodObject<S>>, worker: WorkerDeps, deps: StageDeps) => Promise<RunningWorker>;
}): StageDefinition<S> {
  return defineStage({
    name: o.name,
    env: o.env,
    singleNode: o.singleNode ?? true,
    thread: 'log',
    carriesReadings: o.carriesReadings ?? true,
    rights: o.rights,
    deadLetterStage: o.deadLetterStage,
    status: { deadLetters: 'worker_deadletter_records_total', ...o.status },
    async start(cfg, deps) {
      const c = cfg as unknown as WorkerSettings;
      const bus = deps.bus();
      await bus.ensureTopics(pipelineTopics(c));
      const w = await o.start(cfg, { bus, log: deps.log, registry: deps.registry, onFatal: deps.onFatal, deadLetterStage: o.deadLetterStage }, deps);
      const joined = () => w.consumer.joined();
      return {
        readiness: o.rights.store ? storeReadiness(deps.store(), joined) : () => ({ ready: joined(), detail: { group: c.BUS_GROUP_ID } }),
        stop: () => w.stop(),
        describe: { group: c.BUS_GROUP_ID },
      };
    },
  });
}
