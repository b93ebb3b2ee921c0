/**
 * The partitions this member owns, each with its state restored from the group's last commit on
 * first use (partition-state.ts), dropped when the assignment changes.
 */
import type { Bus, Committed } from '../../shared/bus/bus.ts';
import type { Logger } from '../../shared/logging.ts';
import { restorePartition, type PartitionState } from './partition-state.ts';
import type { WindowTiming } from './windows.ts';

export class AssignedPartitions {
  /** Batches being handled: a partition cannot receive records while another's batch is stuck, so none is idle meanwhile. */
  active = 0;
  private readonly states = new Map<number, PartitionState>();
  private committed: Promise<Map<number, Committed>> | undefined;
  private readonly o: { bus: Bus; groupId: string; topic: string; timing: WindowTiming; log: Logger };

  constructor(o: { bus: Bus; groupId: string; topic: string; timing: WindowTiming; log: Logger }) {
    this.o = o;
  }

  /** The partition's state, restored from the last commit the first time it is asked for. */
  async stateFor(partition: number): Promise<PartitionState> {
    const known = this.states.get(partition);
    if (known) return known;
    // A failed lookup (a broker failing over) must not stay cached: the batch is retried and
    // looks again, instead of failing until the next rebalance.
    this.committed ??= this.o.bus.committed(this.o.groupId, this.o.topic).catch((err: unknown) => {
      this.committed = undefined;
      throw err;
    });
    const c = (await this.committed).get(partition);
    const st = restorePartition(c, this.o.timing, Date.now());
    this.states.set(partition, st);
    const newest = st.windows.newestEventTime;
    this.o.log.info({ partition, resumeAt: c?.offset, replayUntil: st.replayedUntil, newestEventTime: Number.isFinite(newest) ? new Date(newest).toISOString() : null }, 'partition state restored');
    return st;
  }

  /**
   * Runs a batch (or an idle close) of the partition after the ones before it, through its store
   * writes and commit; the partition counts as busy from start to end (a slow write, the store
   * away, is not idleness).
   */
  async serialize<R>(partition: number, run: (st: PartitionState) => Promise<R>): Promise<R> {
    this.active++;
    try {
      const st = await this.stateFor(partition);
      return await st.lock.run(async () => {
        st.lastActivity = Date.now();
        try {
          return await run(st);
        } finally {
          st.lastActivity = Date.now();
        }
      });
    } finally {
      this.active--;
    }
  }

  /** Whether `st` is still this member's state of the partition (not dropped by a rebalance). */
  owns(partition: number, st: PartitionState): boolean {
    return this.states.get(partition) === st;
  }

  entries(): IterableIterator<[number, PartitionState]> {
    return this.states.entries();
  }

  get openWindows(): number {
    let n = 0;
    for (const st of this.states.values()) n += st.windows.openCount;
    return n;
  }

  /** Forgets everything: the new assignment is rebuilt from its committed offsets. */
  clear(): void {
    this.states.clear();
    this.committed = undefined;
  }

  /** Resolves once every partition's queued work has run. */
  idle(): Promise<unknown> {
    return Promise.all([...this.states.values()].map((st) => st.lock.idle()));
  }

  /** Marks every partition busy now (they waited behind a store call: that was not idleness). */
  touch(): void {
    for (const st of this.states.values()) st.lastActivity = Date.now();
  }
}
