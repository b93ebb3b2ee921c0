/**
 * What the aggregator keeps per partition, how it is restored from the last commit, and what it
 * commits: pure, so restart and rebalance behaviour is tested without a bus.
 *
 * The commit is held back to the first record of the oldest window still open, and carries the
 * newest event time seen and the highest offset processed as metadata (`{"ts":…,"hi":…}`): a
 * restarted member replays exactly the open windows' records, computes from the store the windows
 * that may have been written before (they start no later than `ts`), and knows records below `hi`
 * were already seen (their dead letters are not sent twice).
 */
import type { Committed } from '../../shared/bus/bus.ts';
import { SerialLock } from '../../shared/serial-lock.ts';
import { PartitionWindows, type WindowTiming } from './windows.ts';

export interface PartitionState {
  windows: PartitionWindows;
  /** The offset after the last record processed. */
  next: number;
  /**
   * Records below this offset were processed before the last commit (it is held back to the
   * oldest open window): on replay, their dead letters were already sent.
   */
  replayedUntil: number;
  lastActivity: number;
  /** The last batch reached the partition's end: no records were waiting behind it. */
  caughtUp: boolean;
  /** Batches and idle closes of the partition run one at a time. */
  lock: SerialLock;
}

interface CommitMetadata {
  /** Newest event time seen; JSON has no -Infinity, so a partition without one yet stores null. */
  ts: number | null;
  hi: number;
}

/** Commits written before lateness was per device kept the partition's watermark, a bound just as good. */
type StoredMetadata = Partial<CommitMetadata> & { wm?: number | null };

export function restorePartition(c: Committed | undefined, timing: WindowTiming, now: number): PartitionState {
  const meta: StoredMetadata = c?.metadata ? (JSON.parse(c.metadata) as StoredMetadata) : {};
  return { windows: new PartitionWindows(timing, meta.ts ?? meta.wm ?? -Infinity), next: Number(c?.offset ?? 0), replayedUntil: meta.hi ?? 0, lastActivity: now, caughtUp: false, lock: new SerialLock() };
}

export function commitInfo(st: PartitionState): { offset: string; metadata: string } {
  const ts = Number.isFinite(st.windows.newestEventTime) ? st.windows.newestEventTime : null;
  return { offset: String(st.windows.commitOffset(st.next)), metadata: JSON.stringify({ ts, hi: Math.max(st.next, st.replayedUntil) } satisfies CommitMetadata) };
}

/**
 * A partition is idle — its clock may follow the wall clock — when it is caught up, quiet for
 * `idleMs`, and not merely stuck behind another partition's batch or a store call being retried.
 */
export const isIdle = (st: PartitionState, o: { now: number; idleMs: number; activeHandlers: number; storeWaits: number }) =>
  st.caughtUp && o.activeHandlers === 0 && o.storeWaits === 0 && o.now - st.lastActivity >= o.idleMs;
