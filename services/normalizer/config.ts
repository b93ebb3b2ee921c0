/** The normaliser's settings (documented in services/normalizer/README.md). */
import { z } from 'zod';
import { int } from '../../shared/config.ts';
import { workerEnv } from '../../shared/worker-config.ts';

export const normalizerEnv = {
  ...workerEnv(9102, 'normalizer'),
  DEVICE_REGISTRY: z.string().optional(),
  DEDUPE_HORIZON_MS: int(10 * 60_000, 0),
  DEDUPE_MAX_PER_DEVICE: int(1024, 1),
  MAX_FUTURE_MS: int(24 * 3_600_000, 0),
};

export type NormalizerConfig = z.infer<z.ZodObject<typeof normalizerEnv>>;
