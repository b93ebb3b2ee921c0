import { describe, expect, it } from 'vitest';
import type { Carry } from './aggregate.ts';
import { CarryCache, type CarryLookup } from './carry-cache.ts';
import type { OpenWindow } from './windows.ts';

const w = (deviceId: string, kind: OpenWindow['kind'], start: number): OpenWindow => ({ kind, deviceId, municipality: 'm', attrs: {}, start, end: start + 1, readings: [], newestTs: -Infinity, firstOffset: 0 });
const carry = (n: number) => ({ ts: n, energy_wh: n }) as unknown as Carry;

describe('CarryCache', () => {
  it('looks up only unknown devices, once per measurement and window start, and remembers "none"', async () => {
    const calls: [string, number, string[]][] = [];
    const lookup: CarryLookup = async (measurement, before, devices) => {
      calls.push([measurement, before, devices]);
      return new Map(devices.filter((d) => d !== 'b').map((d) => [d, carry(before)]));
    };
    const cache = new CarryCache();
    cache.set('known', carry(1));
    await cache.resolve([w('a', 'energy', 100), w('b', 'energy', 100), w('a', 'energy', 200), w('v', 'fleet', 100), w('known', 'energy', 100)], lookup);
    expect(calls).toEqual([
      ['energy_15m', 100, ['a', 'b']],
      ['fleet_1h', 100, ['v']],
    ]);
    expect([cache.get('a'), cache.get('b'), cache.get('known')]).toEqual([carry(100), undefined, carry(1)]);
    await cache.resolve([w('b', 'energy', 300)], lookup); // "none" is remembered too
    expect(calls).toHaveLength(2);
    cache.clear();
    await cache.resolve([w('b', 'energy', 300)], lookup);
    expect(calls).toHaveLength(3);
  });
});
