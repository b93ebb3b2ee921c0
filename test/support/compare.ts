/** Compares aggregates read from InfluxDB with the recomputation, field by field. */
import { expect } from 'vitest';
import { waitUntil } from './gateway.ts';
import type { Expected } from './recompute.ts';

/** Reads the windows of one measurement: key → fields. */
type ReadWindows = () => Map<string, Record<string, number>> | Promise<Map<string, Record<string, number>>>;

export function expectAggregatesEqual(actual: Map<string, Record<string, number>>, expected: Expected, what: string) {
  expect([...actual.keys()].sort(), `${what}: windows`).toEqual([...expected.keys()].sort());
  const diffs: string[] = [];
  for (const [key, exp] of expected) {
    const got = actual.get(key)!;
    for (const [field, value] of Object.entries(exp)) {
      const g = got[field];
      if (g === undefined || Math.abs(g - value) > 1e-6 * Math.max(1, Math.abs(value))) diffs.push(`${key} ${field}: got ${g}, expected ${value}`);
    }
  }
  expect(diffs.slice(0, 10), `${what}: ${diffs.length} differing fields`).toEqual([]);
}

/**
 * Reads the expected windows (late ones are rewritten as they come) until they all hold their
 * expected values and `ready` agrees, or `timeoutMs` passes; then asserts, and returns what it read.
 * Windows beyond the expected ones are left out of the comparison (see `aggregatesSettle`).
 */
export async function settledAggregates(read: ReadWindows, expected: Expected, what: string, timeoutMs: number, ready: () => boolean | Promise<boolean> = () => true): Promise<Map<string, Record<string, number>>> {
  const expectedOnly = async () => {
    const got = await read();
    for (const key of [...got.keys()]) if (!expected.has(key)) got.delete(key);
    return got;
  };
  return readUntilEqual(expectedOnly, expected, what, timeoutMs, ready);
}

/**
 * Reads every window until the set equals `expected`, each with its expected values, or
 * `timeoutMs` passes; then asserts. A window is written field by field and rewritten as late
 * readings and replays come, so one read right after the last reading can meet it half-written.
 */
export async function aggregatesSettle(read: ReadWindows, expected: Expected, what: string, timeoutMs: number): Promise<void> {
  await readUntilEqual(read, expected, what, timeoutMs, () => true);
}

async function readUntilEqual(read: ReadWindows, expected: Expected, what: string, timeoutMs: number, ready: () => boolean | Promise<boolean>): Promise<Map<string, Record<string, number>>> {
  let got = new Map<string, Record<string, number>>();
  await waitUntil(
    async () => {
      got = await read();
      if (!(await ready())) return false;
      try {
        expectAggregatesEqual(got, expected, what);
        return true;
      } catch {
        return false;
      }
    },
    timeoutMs,
    `${what} settled`,
  ).catch(() => undefined);
  expectAggregatesEqual(got, expected, what);
  return got;
}
