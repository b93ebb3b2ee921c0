/** The aggregator's settings (documented in services/aggregator/README.md). */
import { z } from 'zod';
import { influxEnv, int } from '../../shared/config.ts';
import { workerEnv } from '../../shared/worker-config.ts';

export const aggregatorEnv = {
  ...workerEnv(9104, 'aggregator'),
  ...influxEnv,
  /** The watermark trails the newest event time by this much (out-of-order tolerance). */
  WATERMARK_DELAY_MS: int(60_000, 0),
  /** A window stays open this long after the watermark passed its end (late readings still count). */
  ALLOWED_LATENESS_MS: int(5 * 60_000, 0),
  /**
   * A partition with no records for this long lets its watermark follow the wall clock, closing
   * windows that lie in the past. Must exceed the longest pause expected upstream.
   */
  IDLE_CLOSE_MS: int(60_000, 100),
  /**
   * A late reading (its window already closed) no older than this behind the watermark reopens and
   * recomputes its window; an older one is dead-lettered. Covers a device catching up after an outage.
   */
  REOPEN_HORIZON_MS: int(26 * 3_600_000, 0),
  /** The writer's consumer group: late windows are recomputed from raw readings once it has stored them. */
  WRITER_GROUP_ID: z.string().min(1).default('writer'),
  FLEET_JITTER_M: int(15, 0),
  FLEET_MOVING_KMH: int(3, 0),
  FLEET_SPEED_LIMIT_KMH: int(50, 1),
  FLEET_MAX_GAP_S: int(600, 1),
  WRITE_RETRY_MAX_MS: int(10_000, 100),
};

export type AggregatorConfig = z.infer<z.ZodObject<typeof aggregatorEnv>>;
