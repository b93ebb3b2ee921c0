import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { kafkaSecurity } from './security.ts';
import { kafkaEnv } from './settings.ts';

const settings = (env: Record<string, string>) => parseConfig(kafkaEnv, env);

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
