/** Settings every stream worker shares (Kafka, ops port, drain deadline). */
import { z } from 'zod';
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
