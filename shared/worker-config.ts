/** Settings every stream worker shares (Kafka, ops port, drain deadline). */
import { z } from 'zod';
import { createConsumerMetrics, type ConsumeOptions, type WorkerDeps } from './bus/bus.ts';
import { commonEnv, int, kafkaEnv, port } from './config.ts';

export const workerEnv = (defaultOpsPort: number, defaultGroup: string) => ({
  ...commonEnv,
  ...kafkaEnv,
  OPS_PORT: port(defaultOpsPort),
  KAFKA_GROUP_ID: z.string().min(1).default(defaultGroup),
  SHUTDOWN_TIMEOUT_MS: int(20_000, 100),
  /** A member silent this long is dropped from its group and its partitions move on. */
  KAFKA_SESSION_TIMEOUT_MS: int(30_000, 6000, 300_000),
});

/** The consumer settings every worker takes from its config: its group, session timeout, metrics. */
export function groupConsumer(cfg: { KAFKA_GROUP_ID: string; KAFKA_SESSION_TIMEOUT_MS: number }, deps: WorkerDeps, topic: string): Omit<ConsumeOptions, 'handle'> {
  return {
    groupId: cfg.KAFKA_GROUP_ID,
    sessionTimeoutMs: cfg.KAFKA_SESSION_TIMEOUT_MS,
    onFatal: deps.onFatal,
    topic,
    log: deps.log,
    metrics: createConsumerMetrics(deps.registry, cfg.KAFKA_GROUP_ID),
  };
}
