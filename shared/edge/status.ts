/**
 * What an edge tells the centre of itself, every few seconds while its link is up: how much it
 * holds and since when. It travels on the edge's own topic, under a key no device can have (a
 * device id has no colon), so it needs no topic or right of its own and cannot claim another edge:
 * the intake takes it only from that edge's topic.
 */
import { z } from 'zod';
import { identSchema } from '../schemas/topics.ts';

export const EDGE_STATUS_KEY_PREFIX = 'edge:';
/** An edge's own dead letters (what reached it that no registered device can own) travel on its topic under this key prefix. */
export const EDGE_DEADLETTER_KEY_PREFIX = 'deadletter:';

export const edgeStatusKey = (edgeId: string) => `${EDGE_STATUS_KEY_PREFIX}${edgeId}`;

export const edgeStatusSchema = z.object({
  edgeId: identSchema,
  /** When the edge sent it (its clock), epoch ms. */
  at: z.number().int().nonnegative(),
  /** Forwarding straight to the centre (true), or spooling/draining (false). */
  direct: z.boolean(),
  spoolBytes: z.number().int().nonnegative(),
  spoolRecords: z.number().int().nonnegative(),
  /** When the oldest reading still in its spool was accepted; null when the spool is empty. */
  oldestUnsentAt: z.number().int().nonnegative().nullable(),
  /** Since when its current spell of direct forwarding (or of spooling) lasts, epoch ms. */
  since: z.number().int().nonnegative(),
});
export type EdgeStatus = z.infer<typeof edgeStatusSchema>;
