/**
 * A batch's readings into the partition's windows (pure apart from the partition state it
 * updates): each reading goes into its device's window; a late one reopens its window for
 * recomputation from the store, or — older than the raw readings' retention, so the store no
 * longer keeps what its window needs — becomes a dead letter (one per record, its late readings
 * listed), unless it was dead-lettered before a restart.
 */
import { lastOffset, type BusBatch } from '../../shared/bus/bus.ts';
import type { DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import type { NormalizedMessage } from '../../shared/schemas/readings.ts';
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';
import type { Kind } from '../../shared/schemas/topics.ts';
import type { DecodedRecord } from '../../shared/stages/batch-runner.ts';
import { reopen, type Reopened } from './late-windows.ts';
import type { PartitionState } from './partition-state.ts';
import { WINDOWS, type ReadingSource } from './windows.ts';

export interface Admitted {
  /** Devices with late readings, and the windows they reopen. */
  reopened: Map<string, Reopened>;
  deadLetters: DeadLetterInput[];
  /** The kind of each reading dead-lettered as late. */
  lateKinds: Kind[];
  /** Records that are not normalised messages (the writer dead-letters them). */
  invalid: number;
}

/**
 * `records`: each a normalised message, or undefined where the record is not one. `horizonMs`:
 * how old a late reading of the message's device may be and still reopen its window (its raw
 * readings' retention).
 */
export function admitBatch(st: PartitionState, batch: BusBatch, records: DecodedRecord<NormalizedMessage | undefined>[], horizonMs: (device: Pick<ReadingSource, 'kind' | 'municipality'>) => number): Admitted {
  const out: Admitted = { reopened: new Map(), deadLetters: [], lateKinds: [], invalid: 0 };
  for (const { record: m, value: message } of records) {
    const offset = Number(m.offset);
    if (!message) out.invalid++;
    if (!message || offset < st.next) continue; // older ones are already in this process's windows
    // A message's readings go in together, under the record's offset; its late ones make one dead letter.
    const { readings, kind } = message;
    const lateHere: Rejection[] = [];
    readings.forEach((r, index) => {
      if (st.windows.add(message, r, offset) !== 'late') return;
      const horizon = horizonMs(message);
      if (message.receivedAt - r.ts <= horizon) return reopen(out.reopened, message, r.ts);
      if (offset < st.replayedUntil) return; // dead-lettered before the restart
      out.lateKinds.push(kind);
      const reason = `late: the ${WINDOWS[kind].measurement} window of ${new Date(r.ts).toISOString()} has closed and the reading is more than ${Math.round(horizon / 86_400_000)} days old, beyond the raw readings' retention`;
      lateHere.push({ code: REJECT.LATE, field: 'ts', reason, ...(readings.length > 1 ? { index } : {}) });
    });
    if (lateHere.length === 0) continue;
    out.deadLetters.push({ rejections: lateHere, deviceId: message.deviceId, municipality: message.municipality, kind, source: { topic: batch.topic, partition: batch.partition, offset: m.offset }, original: m.value?.toString('utf8') ?? '' });
  }
  st.next = Number(lastOffset(batch)) + 1;
  st.caughtUp = st.next >= Number(batch.highWatermark);
  return out;
}
