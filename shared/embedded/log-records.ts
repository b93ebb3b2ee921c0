/**
 * Where the embedded log puts a record, known to both threads that use the log file: the caller's
 * (reads, lag) and the writer thread's (appends).
 */
import type { Db } from './sqlite.ts';

/** FNV-1a of the key: a device's records always land in the same partition, in order. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/** The offset the next record of a partition gets (the log end), read from the file. */
export function storedLogEnd(db: Db, topic: string, partition: number): number {
  const row = db.prepare<[string, number], { last: number | null }>('SELECT MAX(offset) AS last FROM records WHERE topic = ? AND partition = ?').get(topic, partition);
  // An emptied (pruned) log continues after the highest committed offset, never reusing one.
  const committed = db.prepare<[string, number], { last: number | null }>('SELECT MAX(offset) AS last FROM commits WHERE topic = ? AND partition = ?').get(topic, partition);
  return Math.max((row?.last ?? -1) + 1, committed?.last ?? 0);
}
