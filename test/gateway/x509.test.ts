/**
 * X.509 device identity on the real gateway's TLS listener, with the real CLI and a real TLS
 * client: `npm run devices -- cert` issues a device a key and a certificate from the local CA,
 * `mosquitto_pub --cert/--key` publishes with it and no password; the certificate of device A
 * cannot publish on device B's topics; a revoked device's certificate, a replaced certificate and
 * one from another CA are refused.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, openLocalCa, writeIssued } from '../../shared/registry/certificates.ts';
import { startTestGateway, waitUntil, type TestGateway } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { testKafka } from '../support/services.ts';

const run = promisify(execFile);

describe('X.509 device certificates', () => {
  let gw: TestGateway;
  let dir: string;
  let secretA = '';
  const registry = () => join(dir, 'devices.json');
  const devices = (...args: string[]) => run(process.execPath, ['shared/registry/cli.ts', '--registry', registry(), ...args], { timeout: 30_000 });
  const certs = (name: string) => ({ cert: join(dir, 'certs', `${name}.crt`), key: join(dir, 'certs', `${name}.key`) });

  /** mosquitto_pub over TLS with a device certificate and no password. */
  const publishWithCert = (files: { cert: string; key: string }, clientId: string, topic: string, message: string) =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(gw.gateway.mqttsPort), '--cafile', join(dir, 'ca', 'ca.crt'), '--cert', files.cert, '--key', files.key, '-i', clientId, '-q', '1', '-t', topic, '-m', message], { timeout: 10_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'x509-'));
    secretA = (await devices('add', '--municipality', 'kalamata', '--kind', 'energy', '--id', 'kal-cert-a')).stdout.trim().split('\n').at(-1)!;
    await devices('add', '--municipality', 'kalamata', '--kind', 'energy', '--id', 'kal-cert-b');
    await devices('cert', '--id', 'kal-cert-a');
    await devices('server-cert', '--host', '127.0.0.1', 'localhost');
    const server = certs('gateway');
    gw = await startTestGateway({ DATA_DIR: dir, MQTT_TLS_CERT: server.cert, MQTT_TLS_KEY: server.key, MQTT_TLS_CA: join(dir, 'ca', 'ca.crt'), MQTTS_PORT: '0' });
  });
  afterAll(() => gw.close());

  const recordsOf = async (device: string) => (await readTopic(testKafka(), gw.topic)).filter((r) => r.key === device);

  it('publishes with mosquitto_pub --cert/--key and no password, as the device the certificate names', async () => {
    await publishWithCert(certs('kal-cert-a'), 'kal-cert-a', 'city/kalamata/energy/kal-cert-a/telemetry', '{"energy_wh": 501}');
    await waitUntil(async () => (await recordsOf('kal-cert-a')).length === 1, 20_000, 'the reading in Kafka');
    expect(JSON.parse((await recordsOf('kal-cert-a'))[0]!.value)).toMatchObject({ deviceId: 'kal-cert-a', municipality: 'kalamata', payload: '{"energy_wh": 501}' });
    // Devices without a certificate still log in by password on the same listener.
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(gw.gateway.mqttsPort), '--cafile', join(dir, 'ca', 'ca.crt'), '-i', 'kal-cert-a', '-u', 'kal-cert-a', '-P', secretA, '-q', '1', '-t', 'city/kalamata/energy/kal-cert-a/telemetry', '-m', '{"energy_wh": 502}'], { timeout: 10_000 });
    await waitUntil(async () => (await recordsOf('kal-cert-a')).length === 2, 20_000, 'the password reading in Kafka');
  });

  it("keeps device A's certificate off device B's topics and client id", async () => {
    // On B's topic the publish is refused (the gateway closes the connection instead of a PUBACK).
    await publishWithCert(certs('kal-cert-a'), 'kal-cert-a', 'city/kalamata/energy/kal-cert-b/telemetry', '{"energy_wh": 1}').catch(() => undefined);
    // As B's client id, the connection itself is refused.
    await expect(publishWithCert(certs('kal-cert-a'), 'kal-cert-b', 'city/kalamata/energy/kal-cert-b/telemetry', '{"energy_wh": 2}')).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await recordsOf('kal-cert-b')).toHaveLength(0);
    const refused = await gw.metrics.getSingleMetricAsString('gateway_publishes_total');
    expect(refused).toMatch(/result="refused",reason="topic_not_own"/);
  });

  it('refuses a replaced certificate, a revoked device and a certificate from another CA', async () => {
    await devices('cert', '--id', 'kal-cert-b', '--out', join(dir, 'old'));
    const old = { cert: join(dir, 'old', 'kal-cert-b.crt'), key: join(dir, 'old', 'kal-cert-b.key') };
    await devices('cert', '--id', 'kal-cert-b'); // the new one retires the old
    const topicB = 'city/kalamata/energy/kal-cert-b/telemetry';
    await expect(publishWithCert(old, 'kal-cert-b', topicB, '{"energy_wh": 3}')).rejects.toThrow();
    await publishWithCert(certs('kal-cert-b'), 'kal-cert-b', topicB, '{"energy_wh": 4}');

    await devices('revoke', '--id', 'kal-cert-a');
    await expect(publishWithCert(certs('kal-cert-a'), 'kal-cert-a', 'city/kalamata/energy/kal-cert-a/telemetry', '{"energy_wh": 5}')).rejects.toThrow();

    // Same CN, signed by another CA: the handshake completes (password clients are let through) but the login is refused.
    const other = await openLocalCa(join(dir, 'other-ca'));
    const forged = writeIssued(join(dir, 'forged'), 'kal-cert-b', await issueCertificate(other, { device: 'kal-cert-b', days: 1 }));
    await expect(publishWithCert(forged, 'kal-cert-b', topicB, '{"energy_wh": 6}')).rejects.toThrow();

    await new Promise((r) => setTimeout(r, 1000));
    expect((await recordsOf('kal-cert-b')).map((r) => (JSON.parse(r.value) as { payload: string }).payload)).toEqual(['{"energy_wh": 4}']);
    expect((await recordsOf('kal-cert-a')).map((r) => (JSON.parse(r.value) as { payload: string }).payload)).toEqual(['{"energy_wh": 501}', '{"energy_wh": 502}']);
    const failures = await gw.metrics.getSingleMetricAsString('gateway_auth_failures_total');
    expect(failures).toMatch(/reason="bad_certificate"/);
    expect(failures).toMatch(/reason="revoked"/);
  });
});
