import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.ts';
import { isSecretName, redactSecrets } from './secret-names.ts';

describe('secret names: one rule for config errors and logs', () => {
  it('names every secret setting the services read, and no ordinary field', () => {
    for (const n of ['INFLUX_TOKEN', 'KAFKA_SASL_PASSWORD', 'CHIRPSTACK_MQTT_PASSWORD', 'TTS_WEBHOOK_SECRET', 'WRITER_INFLUX_TOKEN', 'password', 'secret', 'secretHash', 'authorization', 'x-webhook-secret']) expect(isSecretName(n), n).toBe(true);
    for (const n of ['device', 'deviceId', 'reason', 'tokens', 'KAFKA_SASL_USERNAME', 'retryInMs', 'key']) expect(isSecretName(n), n).toBe(false);
  });

  it('keeps every secret out of a log line, at any depth, whatever else the line holds', () => {
    const secretKey = fc.constantFrom('password', 'KAFKA_SASL_PASSWORD', 'INFLUX_TOKEN', 'secretHash', 'authorization', 'x-webhook-secret');
    const plainKey = fc.constantFrom('device', 'reason', 'config', 'headers', 'nested', 'list');
    fc.assert(
      fc.property(fc.array(plainKey, { maxLength: 4 }), secretKey, fc.dictionary(plainKey, fc.jsonValue(), { maxKeys: 3 }), (path, key, extra) => {
        const secret = 'S3CR3T-value-never-logged';
        let obj: Record<string, unknown> = { ...extra, [key]: secret };
        for (const p of path.reverse()) obj = { [p]: obj, ...extra };
        const lines: string[] = [];
        createLogger('t', 'info', { write: (l: string) => void lines.push(l) }).warn(obj, 'a line');
        expect(lines.join('')).not.toContain(secret);
      }),
      { numRuns: 300 },
    );
  });

  it('returns objects without secrets as they are (no copy), and does not touch class instances', () => {
    const plain = { device: 'kal-1', nested: { reason: 'x' } };
    expect(redactSecrets(plain)).toBe(plain);
    const err = Object.assign(new Error('boom'), { password: 'p' });
    expect(redactSecrets({ err }).err).toBe(err);
  });
});
