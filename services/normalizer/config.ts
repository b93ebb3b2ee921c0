/** The normaliser's settings (documented in services/normalizer/README.md). */
import { z } from 'zod';
import { int } from '../../shared/config.ts';
import { DEFAULT_MAX_READINGS } from './normalize.ts';
import { workerEnv } from '../../shared/worker-config.ts';

export const normalizerEnv = {
  ...workerEnv(9102, 'normalizer'),
  DEVICE_REGISTRY: z.string().optional(),
  DEDUPE_HORIZON_MS: int(10 * 60_000, 0),
  DEDUPE_MAX_PER_DEVICE: int(1024, 1),
  /** A reading dated further ahead of the gateway's clock than this is dead-lettered (a device clock gone wrong). */
  MAX_FUTURE_MS: int(15 * 60_000, 0),
  /** Most readings one message may carry; a larger one is dead-lettered whole. */
  MAX_READINGS_PER_MESSAGE: int(DEFAULT_MAX_READINGS, 1, 100_000),
  /** Per device: dead-letter bytes a second (and burst) that keep the original; beyond, the original is left out and counted. */
  DEADLETTER_BYTES_PER_S: int(4096, 0),
  DEADLETTER_BURST_BYTES: int(256 * 1024, 0),
};

export type NormalizerConfig = z.infer<z.ZodObject<typeof normalizerEnv>>;
