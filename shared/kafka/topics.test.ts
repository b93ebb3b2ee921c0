import { describe, expect, it } from 'vitest';
import { replicationOf } from './topics.ts';

describe('replicationOf', () => {
  const spec = (replicationFactor: number, configs?: Record<string, string>) => ({ topic: 't', partitions: 6, replicationFactor, configs });

  it('0 means as the cluster allows: 3 copies needing 2 in sync on three or more brokers, else 1', () => {
    expect(replicationOf(spec(0), 1)).toEqual({ replicationFactor: 1, configs: {} });
    expect(replicationOf(spec(0), 2)).toEqual({ replicationFactor: 1, configs: {} });
    expect(replicationOf(spec(0), 3)).toEqual({ replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
    expect(replicationOf(spec(0), 5)).toEqual({ replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
  });

  it('an explicit factor is kept, and a topic config given wins', () => {
    expect(replicationOf(spec(2), 3)).toEqual({ replicationFactor: 2, configs: {} });
    expect(replicationOf(spec(3, { 'min.insync.replicas': '3' }), 3).configs).toEqual({ 'min.insync.replicas': '3' });
  });
});
