/** The normaliser's settings (documented in services/normalizer/README.md). */
import { registryFileEnv } from '../../shared/registry/settings.ts';
import { z } from 'zod';
import { int } from '../../shared/config.ts';
import { DEFAULT_MAX_READINGS } from './normalize.ts';
import { fieldMapSchema } from './lorawan.ts';
import { workerEnv } from '../../shared/stages/worker.ts';
import { privateUseEnv } from '../../shared/privacy/private-use.ts';

export const normalizerEnv = {
  ...workerEnv(9102, 'normalizer'),
  ...registryFileEnv,
  DEDUPE_HORIZON_MS: int(10 * 60_000, 0).describe('a reading of the same device and time within this (processing time) is dropped as a duplicate'),
  DEDUPE_MAX_PER_DEVICE: int(1024, 1).describe('timestamps remembered per device for that, at most (the newest half at least; bounds memory)'),
  MAX_FUTURE_MS: int(15 * 60_000, 0).describe("a reading dated further ahead of the gateway's clock is dead-lettered (a device clock gone wrong)"),
  MAX_READINGS_PER_MESSAGE: int(DEFAULT_MAX_READINGS, 1, 100_000).describe('most readings one message may carry; a larger one is dead-lettered whole'),
  LORAWAN_FIELD_MAP: z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      try {
        return fieldMapSchema.parse(JSON.parse(s));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `expected JSON like {"parking":{"occupied":"carStatus"}} (${(err as Error).message.slice(0, 80)})` });
        return z.NEVER;
      }
    })
    .describe('LoRaWAN uplinks (ChirpStack, The Things Stack): per kind, the decoded-object name of each field that is not called as ours, as JSON, e.g. {"parking":{"occupied":"carStatus"}}'),
  ...privateUseEnv,
  DEADLETTER_BYTES_PER_S: int(4096, 0).describe("per device: dead-letter bytes a second that keep the original; beyond (after the burst) the original is left out and counted"),
  DEADLETTER_BURST_BYTES: int(256 * 1024, 0).describe('per device: dead-letter bytes allowed at once'),
};

export type NormalizerConfig = z.infer<z.ZodObject<typeof normalizerEnv>>;
