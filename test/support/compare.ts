/** Compares aggregates read from InfluxDB with the recomputation, field by field. */
import { expect } from 'vitest';
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
