import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busEnv, parseConfig } from '../config.ts';
import { busGrants, busNames } from './acls.ts';
import { kafkaSecurity } from './security.ts';

const settings = (env: Record<string, string>) => parseConfig(busEnv, env);

describe('kafkaSecurity', () => {
  it('is plaintext without settings', () => {
    expect(kafkaSecurity(settings({}))).toEqual({});
  });

  it('SASL_SSL with SCRAM-SHA-512 and a CA file; the password may come from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafka-sec-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA PEM');
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    const s = kafkaSecurity(settings({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'gateway', KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw'), KAFKA_SSL_CA: join(dir, 'ca.crt') }));
    expect(s.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'gateway', password: 's3cret' });
    expect(String((s.ssl as { ca: Buffer }).ca)).toBe('CA PEM');
  });

  it('PLAIN only over TLS; SASL needs a login; a client certificate needs its key; TLS files only with TLS', () => {
    expect(() => kafkaSecurity(settings({ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }))).toThrow(/PLAIN .*SASL_SSL only/);
    expect(kafkaSecurity(settings({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }))).toEqual({ ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' } });
    expect(() => kafkaSecurity(settings({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }))).toThrow(/needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    expect(() => kafkaSecurity(settings({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT: '/x.crt' }))).toThrow(/KAFKA_SSL_CERT and KAFKA_SSL_KEY go together/);
    expect(() => kafkaSecurity(settings({ KAFKA_SSL_CA: '/ca.crt' }))).toThrow(/does not use TLS/);
    expect(() => kafkaSecurity(settings({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA: '/nonexistent/ca.crt' }))).toThrow(/KAFKA_SSL_CA='\/nonexistent\/ca.crt': cannot read it/);
    expect(() => settings({ KAFKA_SECURITY_PROTOCOL: 'TLS' })).toThrow(/^invalid configuration: KAFKA_SECURITY_PROTOCOL='TLS'/);
  });
});

describe('busGrants', () => {
  const g = busGrants({ topics: { raw: 'r', normalized: 'n', deadletter: 'd' }, groups: { normalizer: 'gn', writer: 'gw', aggregator: 'ga' } });
  const has = (s: keyof typeof g, resource: string, name: string, op: string) => g[s].some((x) => x.resource === resource && x.name === name && x.operation === op);

  it('the gateway writes raw envelopes (and ingest dead letters) only, and reads nothing', () => {
    expect(g.gateway.filter((x) => x.operation !== 'DESCRIBE')).toEqual([
      { resource: 'topic', name: 'r', operation: 'WRITE' },
      { resource: 'topic', name: 'd', operation: 'WRITE' },
    ]);
  });

  it('each worker reads its input under its own group only and writes its outputs', () => {
    expect(has('normalizer', 'topic', 'r', 'READ') && has('normalizer', 'group', 'gn', 'READ') && has('normalizer', 'topic', 'n', 'WRITE')).toBe(true);
    expect(has('writer', 'topic', 'n', 'READ') && has('writer', 'group', 'gw', 'READ') && !has('writer', 'topic', 'n', 'WRITE') && !has('writer', 'topic', 'r', 'READ')).toBe(true);
    expect(has('aggregator', 'group', 'ga', 'READ') && has('aggregator', 'group', 'gw', 'DESCRIBE') && !has('aggregator', 'group', 'gw', 'READ')).toBe(true);
    for (const s of ['gateway', 'normalizer', 'writer', 'aggregator'] as const) expect(g[s].filter((x) => x.resource === 'group' && x.operation === 'READ').length, s).toBeLessThanOrEqual(1);
  });

  it("names each worker's group after the worker unless told otherwise", () => {
    const t = { TOPIC_RAW: 'r', TOPIC_NORMALIZED: 'n', TOPIC_DEADLETTER: 'd' };
    expect(busNames(t).groups).toEqual({ normalizer: 'normalizer', writer: 'writer', aggregator: 'aggregator' });
    expect(busNames(t, { writer: 'w2', aggregator: undefined }).groups).toEqual({ normalizer: 'normalizer', writer: 'w2', aggregator: 'aggregator' });
  });
});
