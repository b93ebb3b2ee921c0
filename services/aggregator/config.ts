/** The aggregator's settings (documented in services/aggregator/README.md). */
import { z } from 'zod';
import { int } from '../../shared/config.ts';
import { workerEnv } from '../../shared/stages/worker.ts';
import { rawRetentionEnv } from '../../shared/privacy/retention.ts';

export const aggregatorEnv = {
  ...workerEnv(9104, 'aggregator'),
  WATERMARK_DELAY_MS: int(60_000, 0).describe("a device's watermark trails its own newest event time (capped at the gateway's clock) by this much: out-of-order tolerance"),
  ALLOWED_LATENESS_MS: int(5 * 60_000, 0).describe("a window stays open this long after its device's watermark passed its end"),
  IDLE_CLOSE_MS: int(60_000, 100).describe("a device silent this long (by the gateway's receive times) has the windows the partition's clock has passed closed without waiting for its own progress; a partition without records this long lets its clock follow the wall clock"),
  REOPEN_HORIZON_MS: int(90 * 86_400_000, 0).describe("the raw readings' retention (90 days, the raw bucket's and npm start's default): a late reading (its device's window has closed) younger than this — and than its kind's and municipality's raw retention (RAW_RETENTION_*) — reopens the window, recomputed from the stored readings; an older one, which the store no longer keeps, is dead-lettered as late"),
  ...rawRetentionEnv,
  WRITER_GROUP_ID: z.string().min(1).default('writer').describe("the writer's consumer group: reopened windows are recomputed once it has stored their readings"),
  WRITER_WAIT_MAX_MS: int(30_000, 0).describe('longest wait for the writer before recomputing reopened windows from what is stored (a writer that is down must not stop aggregation)'),
  FLEET_JITTER_M: int(15, 0).describe('a move shorter than this is GPS jitter'),
  FLEET_MOVING_KMH: int(3, 0).describe('moving at or above this speed'),
  FLEET_SPEED_LIMIT_KMH: int(50, 1).describe('a crossing above it is a speeding event'),
  FLEET_MAX_GAP_S: int(600, 1).describe('longer gaps between fixes add distance (from positions; from speeds, in private use, none) but no time'),
  WRITE_RETRY_MAX_MS: int(10_000, 100).describe('longest wait between retries of a failed store call'),
};

export type AggregatorConfig = z.infer<z.ZodObject<typeof aggregatorEnv>>;
