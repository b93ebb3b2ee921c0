/** Compares aggregates read from InfluxDB with the recomputation, field by field. */
import { expect } from 'vitest';
import { waitUntil } from './gateway.ts';
import type { Expected } from './recompute.ts';

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
 */
export async function settledAggregates(read: () => Map<string, Record<string, number>> | Promise<Map<string, Record<string, number>>>, expected: Expected, what: string, timeoutMs: number, ready: () => boolean | Promise<boolean> = () => true): Promise<Map<string, Record<string, number>>> {
  let got = new Map<string, Record<string, number>>();
  const readExpected = async () => {
    got = await read();
    for (const key of [...got.keys()]) if (!expected.has(key)) got.delete(key);
  };
  await waitUntil(
    async () => {
      await readExpected();
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
