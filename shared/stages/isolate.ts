/**
 * The poison-pill policy for a store write: when the store refuses a batch for what is in it (not
 * because it is away), halve the batch until the point it refuses stands alone, set that point
 * aside and write the rest — one bad point must not hold its whole partition forever.
 * Failures that are not refusals (the store away, the disk full) are thrown for the caller's retry.
 */
import { describeError } from './poison.ts';

export interface Refused<P> {
  point: P;
  error: string;
}

export async function writeIsolating<P>(points: P[], write: (ps: P[]) => Promise<void>, isRefusal: (err: unknown) => boolean): Promise<Refused<P>[]> {
  if (points.length === 0) return [];
  try {
    await write(points);
    return [];
  } catch (err) {
    if (!isRefusal(err)) throw err;
    if (points.length === 1) return [{ point: points[0]!, error: describeError(err) }];
    const mid = Math.ceil(points.length / 2);
    const left = await writeIsolating(points.slice(0, mid), write, isRefusal);
    const right = await writeIsolating(points.slice(mid), write, isRefusal);
    return [...left, ...right];
  }
}
