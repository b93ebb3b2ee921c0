/** The edge intake's settings (documented in services/edge-intake/README.md). */
import type { z } from 'zod';
import { edgeScopesEnv } from '../../shared/edge/settings.ts';
import { workerEnv } from '../../shared/stages/worker.ts';

export const edgeIntakeEnv = {
  ...workerEnv(9108, 'edge-intake'),
  ...edgeScopesEnv,
};

export type EdgeIntakeConfig = z.infer<z.ZodObject<typeof edgeIntakeEnv>>;
