/** The rights each stage's definition declares, as its bus principal and store token get them. */
import { describe, expect, it } from 'vitest';
import { busGrants, busNames, edgeGrants } from '#shared/kafka/acls.ts';
import { BUS_PARTIES, STORE_ACCESS } from './rights.ts';

describe('bus rights from the catalogue', () => {
  const g = busGrants({ topics: { raw: 'r', normalized: 'n', deadletter: 'd', edges: 'r.edge.' }, registry: 'reg', groups: { normalizer: 'gn', writer: 'gw', aggregator: 'ga' } }, BUS_PARTIES);
  const has = (s: string, resource: string, name: string, op: string) => g[s]!.some((x) => x.resource === resource && x.name === name && x.operation === op);

  it('the gateway writes raw envelopes (and ingest dead letters) only, and reads nothing but the central device registry', () => {
    expect(g.gateway!.filter((x) => x.operation !== 'DESCRIBE')).toEqual([
      { resource: 'topic', name: 'r', operation: 'WRITE' },
      { resource: 'topic', name: 'd', operation: 'WRITE' },
      { resource: 'topic', name: 'reg', operation: 'READ' },
      { resource: 'group', name: 'registry-gateway-', operation: 'READ', prefixed: true },
    ]);
  });

  it('only the stages that use the device registry read its topic; the KPI API has no other right on the bus', () => {
    expect(Object.keys(g).filter((s) => has(s, 'topic', 'reg', 'READ')).sort()).toEqual(['alarms', 'edge-intake', 'gateway', 'kpi-api', 'normalizer']);
    expect(g['kpi-api']!.filter((x) => x.operation !== 'DESCRIBE' && x.name !== 'reg' && !x.prefixed)).toEqual([]);
  });

  it('each worker reads its input under its own group only and writes its outputs', () => {
    expect(has('normalizer', 'topic', 'r', 'READ') && has('normalizer', 'group', 'gn', 'READ') && has('normalizer', 'topic', 'n', 'WRITE')).toBe(true);
    expect(has('writer', 'topic', 'n', 'READ') && has('writer', 'group', 'gw', 'READ') && !has('writer', 'topic', 'n', 'WRITE') && !has('writer', 'topic', 'r', 'READ')).toBe(true);
    expect(has('aggregator', 'group', 'ga', 'READ') && has('aggregator', 'group', 'gw', 'DESCRIBE') && !has('aggregator', 'group', 'gw', 'READ')).toBe(true);
    for (const s of Object.keys(g)) expect(g[s]!.filter((x) => x.resource === 'group' && x.operation === 'READ' && !x.prefixed).length, s).toBeLessThanOrEqual(1);
  });

  it("the edge intake reads every edge's topic (their prefix) and writes raw envelopes and dead letters; an edge writes its own topic only", () => {
    expect(g['edge-intake']!.filter((x) => x.operation !== 'DESCRIBE' && x.name !== 'reg' && x.name !== 'registry-edge-intake-')).toEqual([
      { resource: 'topic', name: 'r.edge.', operation: 'READ', prefixed: true },
      { resource: 'group', name: 'edge-intake', operation: 'READ' },
      { resource: 'topic', name: 'r', operation: 'WRITE' },
      { resource: 'topic', name: 'd', operation: 'WRITE' },
    ]);
    expect(edgeGrants(busNames({ TOPIC_RAW: 'r', TOPIC_NORMALIZED: 'n', TOPIC_DEADLETTER: 'd', DEVICE_REGISTRY_TOPIC: 'reg' }), 'kal-edge')).toEqual([
      { resource: 'topic', name: 'r.edge.kal-edge', operation: 'DESCRIBE' },
      { resource: 'topic', name: 'r.edge.kal-edge', operation: 'WRITE' },
      { resource: 'topic', name: 'reg', operation: 'DESCRIBE' },
      { resource: 'topic', name: 'reg', operation: 'READ' },
      { resource: 'group', name: 'registry-gateway-', operation: 'READ', prefixed: true },
    ]);
  });

  it("names each worker's group after the worker unless told otherwise", () => {
    const t = { TOPIC_RAW: 'r', TOPIC_NORMALIZED: 'n', TOPIC_DEADLETTER: 'd' };
    const groupRead = (names: ReturnType<typeof busNames>, s: string) => busGrants(names, BUS_PARTIES)[s]!.find((x) => x.resource === 'group' && x.operation === 'READ')?.name;
    expect(groupRead(busNames(t), 'writer')).toBe('writer');
    expect(groupRead(busNames(t, { writer: 'w2', aggregator: undefined }), 'writer')).toBe('w2');
    expect(groupRead(busNames(t, { writer: 'w2', aggregator: undefined }), 'aggregator')).toBe('aggregator');
  });
});

describe('store rights from the catalogue', () => {
  it('gives the readers no write and the writer no read', () => {
    expect(STORE_ACCESS['kpi-api']).toEqual({ read: ['raw', 'aggregates'], write: [] });
    expect(STORE_ACCESS.grafana).toEqual({ read: ['raw', 'aggregates'], write: [] });
    expect(STORE_ACCESS.writer).toEqual({ read: [], write: ['raw'] });
    expect(STORE_ACCESS.normalizer).toBeUndefined(); // the normaliser never touches the store
  });
});
