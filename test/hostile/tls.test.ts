/**
 * MQTT over TLS with a real TLS client: a CA and a server certificate made with openssl, the
 * gateway's TLS listener, and `mosquitto_pub --cafile` verifying the server against the CA. A
 * client that does not trust the CA is refused by its own verification.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { startTestGateway, waitUntil, type TestGateway } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { testKafka } from '../support/services.ts';

const run = promisify(execFile);

describe('MQTT over TLS', () => {
  let gw: TestGateway;
  let dir: string;
  let secret: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tls-'));
    const f = (n: string) => join(dir, n);
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('server.key'), '-out', f('server.csr')]);
    await run('bash', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${f('san.ext')}`]);
    await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('san.ext'), '-out', f('server.pem')]);
    gw = await startTestGateway({ MQTT_TLS_CERT: f('server.pem'), MQTT_TLS_KEY: f('server.key'), MQTTS_PORT: '0' });
    secret = await new DeviceRegistry(gw.registryPath).add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-tls' });
  });
  afterAll(() => gw.close());

  it('takes a QoS 1 reading from mosquitto_pub --cafile, and a client that does not trust the CA refuses the server', async () => {
    const port = String(gw.gateway.mqttsPort);
    const args = ['-h', '127.0.0.1', '-p', port, '-i', 'kal-tls', '-u', 'kal-tls', '-P', secret, '-q', '1', '-t', 'city/kalamata/energy/kal-tls/telemetry', '-m', '{"energy_wh": 77}'];
    await run('mosquitto_pub', ['--cafile', join(dir, 'ca.pem'), ...args], { timeout: 10_000 });
    await waitUntil(async () => (await readTopic(testKafka(), gw.topic)).some((r) => r.key === 'kal-tls'), 20_000, 'the TLS reading in Kafka');
    const record = (await readTopic(testKafka(), gw.topic)).find((r) => r.key === 'kal-tls')!;
    expect(JSON.parse(record.value)).toMatchObject({ deviceId: 'kal-tls', payload: '{"energy_wh": 77}' });

    // Another CA: mosquitto_pub's own verification fails, nothing is sent.
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other-ca', '-keyout', join(dir, 'other.key'), '-out', join(dir, 'other.pem')]);
    await expect(run('mosquitto_pub', ['--cafile', join(dir, 'other.pem'), ...args], { timeout: 10_000 })).rejects.toThrow();
    expect((await readTopic(testKafka(), gw.topic)).filter((r) => r.key === 'kal-tls')).toHaveLength(1);
  });
});
