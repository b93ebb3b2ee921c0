/** What every stream worker shares: its settings (bus, ops port, drain deadline), its dependencies, its running handle. */
import { z } from 'zod';
import type { Registry } from 'prom-client';
import type { Bus, BusConsumer, ConsumeOptions } from '../bus/bus.ts';
import { createConsumerMetrics } from '../bus/consumer-metrics.ts';
import { commonEnv, int, busEnv, port } from '../config.ts';
import type { Logger } from '../logging.ts';
import { stagesNiceSetting } from '../thread-priority.ts';

/** What every stream worker is given by its `main.ts` (or a test). */
export interface WorkerDeps {
  bus: Bus;
  log: Logger;
  registry: Registry;
  onFatal: (err: Error) => void;
  /** What its dead letters say in `stage` (its catalogue entry's `deadLetterStage`). */
  deadLetterStage: string;
}

/** A started stream worker. */
export interface RunningWorker {
  consumer: BusConsumer;
  /** Let the batch in progress finish and commit, then leave the group. */
  stop(): Promise<void>;
}

export const workerEnv = (defaultOpsPort: number, defaultGroup: string) => ({
  ...commonEnv,
  ...busEnv,
  OPS_PORT: port(defaultOpsPort).describe('/healthz, /readyz, /metrics'),
  BUS_GROUP_ID: z.string().min(1).default(defaultGroup).describe('consumer group: more processes in it share the partitions'),
  SHUTDOWN_TIMEOUT_MS: int(20_000, 100).describe('drain deadline on SIGTERM'),
  BUS_SESSION_TIMEOUT_MS: int(30_000, 6000, 300_000).describe('a member silent this long is dropped from its group and its partitions move on'),
  STAGES_NICE: stagesNiceSetting(10),
});

/** The consumer settings every worker takes from its config: its group, session timeout, metrics. */
export function groupConsumer(cfg: { BUS_GROUP_ID: string; BUS_SESSION_TIMEOUT_MS: number }, deps: WorkerDeps, topic: ConsumeOptions['topic']): Omit<ConsumeOptions, 'handle'> {
  return {
    groupId: cfg.BUS_GROUP_ID,
    sessionTimeoutMs: cfg.BUS_SESSION_TIMEOUT_MS,
    onFatal: deps.onFatal,
    topic,
    log: deps.log,
    metrics: createConsumerMetrics(deps.registry, cfg.BUS_GROUP_ID),
  };
}
