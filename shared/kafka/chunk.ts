/**
 * Splits messages into produce requests small enough for the broker: a request's messages for one
 * partition form one record batch, which must stay under the broker's `message.max.bytes`
 * (1 MiB by default). Keeping a whole request under the bound keeps every batch in it under too.
 */
import type { BusMessage } from '../bus/bus.ts';

/** Under the broker's default 1 MiB with room for the record batch's own overhead. */
export const DEFAULT_REQUEST_BYTES = 900 * 1024;

const sizeOf = (m: BusMessage) => (typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length) + m.key.length + 64;

export function chunkMessages<T extends BusMessage>(messages: T[], maxBytes = DEFAULT_REQUEST_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    const s = sizeOf(m);
    if (current.length > 0 && bytes + s > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
