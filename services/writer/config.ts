/** The writer's settings (documented in services/writer/README.md). */
import type { z } from 'zod';
import { int } from '../../shared/config.ts';
import { workerEnv } from '../../shared/stages/worker.ts';
import { rawRetentionEnv } from '../../shared/privacy/retention.ts';

export const writerEnv = {
  ...workerEnv(9103, 'writer'),
  WRITE_BATCH_MAX: int(5000, 1).describe('points per store write request'),
  WRITE_RETRY_MAX_MS: int(10_000, 100).describe('longest wait between retries of a failed write'),
  ...rawRetentionEnv,
  RETENTION_CHECK_MS: int(3_600_000, 100).describe("how often raw readings past their kind's (or their municipality's) retention are deleted"),
};

export type WriterConfig = z.infer<z.ZodObject<typeof writerEnv>>;
