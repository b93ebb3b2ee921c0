/**
 * Hostile and careless input against `npm start` (embedded log and store), as a device would send
 * it: readings that used to stop the whole product for good, and a publish that used to fan out
 * into thousands of dead letters. The product stays up, good readings keep arriving, and every bad
 * publish costs one dead-letter record of bounded size.
 */
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReadOnly } from '../../shared/embedded/sqlite.ts';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterSchema } from '../../shared/schemas/deadletter.ts';
import { waitUntil } from '../support/gateway.ts';
import { startNode, type StartedNode } from '../support/npm-start.ts';
import type { Spawned } from '../support/spawn.ts';

describe('hostile input against npm start', () => {
  let node: Spawned;
  let dir: string;
  let device: StartedNode['device'];
  let mqttUrl: string;
  let api: StartedNode['api'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostile-'));
    ({ node, device, mqttUrl, api } = await startNode(dir));
  });
  afterAll(() => node?.child.kill('SIGTERM'));

  /** Dead-letter records in the embedded log: count and bytes. */
  const deadLetters = () => {
    const db = openReadOnly(join(dir, 'bus.db'));
    try {
      const rows = db.prepare<[], { value: Buffer }>("SELECT value FROM records WHERE topic = 'telemetry.deadletter' ORDER BY partition, offset").all();
      return rows.map((r) => ({ bytes: r.value.length, letter: deadLetterSchema.parse(JSON.parse(r.value.toString())) }));
    } finally {
      db.close();
    }
  };

  it('dead-letters timestamps out of any range (ns, ±1e300, 1e16, SenML bt 1e300) and goes on storing good readings', async () => {
    const client = await mqtt.connectAsync(mqttUrl, { clientId: device.id, username: device.id, password: device.secret });
    const poison = [
      '{"energy_wh":1,"ts":1795766273828704700}',
      '{"energy_wh":1,"ts":1e300}',
      '{"energy_wh":1,"ts":-1e300}',
      '{"energy_wh":1,"ts":1e16}',
      `[{"bn":"urn:dev:id:${device.id}:","bt":1e300,"n":"energy","u":"Wh","v":1}]`,
      '[{"n":"constructor","v":1},{"n":"energy","u":"toString","v":2}]',
    ];
    for (const p of poison) await client.publishAsync(device.topic, p, { qos: 1 });
    const goodTs = Date.now();
    await client.publishAsync(device.topic, JSON.stringify({ ts: goodTs, energy_wh: 4321 }), { qos: 1 });
    await client.endAsync();

    await waitUntil(
      async () => (await api('/municipalities/kalamata/health')).rows.some((r) => r.device === device.id && typeof r.last_seen === 'string' && Date.parse(r.last_seen) === goodTs),
      30_000,
      'the good reading after the poison ones',
    );
    expect(node.child.exitCode).toBeNull();
    const letters = deadLetters().map((d) => d.letter);
    expect(letters).toHaveLength(poison.length);
    expect(letters.map((l) => l.code)).toEqual(['ts_in_future', 'ts_in_future', 'ts_too_old', 'ts_in_future', 'ts_in_future', 'senml_invalid']);
    for (const l of letters) expect(l).toMatchObject({ stage: 'normalize', deviceId: device.id, field: expect.any(String) as string });
  });

  it('turns one publish of 32,700 invalid items into one dead-letter record of about its own size', async () => {
    const before = deadLetters().length;
    const client = await mqtt.connectAsync(mqttUrl, { clientId: device.id, username: device.id, password: device.secret });
    const payload = JSON.stringify(new Array(32_700).fill(0));
    expect(payload.length).toBeLessThan(65_536);
    await client.publishAsync(device.topic, payload, { qos: 1 });
    await client.endAsync();
    await waitUntil(() => deadLetters().length > before, 30_000, 'the dead letter');
    const added = deadLetters().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]!.letter).toMatchObject({ code: 'payload_too_many_readings', field: 'payload' });
    // The original once (inside the raw envelope), plus a few hundred bytes of explanation.
    expect(added[0]!.bytes).toBeLessThan(payload.length + 2000);
    expect(node.child.exitCode).toBeNull();
  });

  it('listens on this machine only by default, as its banner says', async () => {
    const port = Number(new URL(mqttUrl).port);
    const reach = (host: string) =>
      new Promise<string>((resolve) => {
        const sock = connect(port, host);
        sock.once('connect', () => (sock.destroy(), resolve('open')));
        sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
    expect(await reach('127.0.0.1')).toBe('open');
    // Another loopback address reaches a socket bound to every interface, not one bound to 127.0.0.1.
    expect(await reach('127.0.0.2')).toBe('ECONNREFUSED');
    expect(node.log()).toContain(`mqtt://127.0.0.1:${port}`);
  });
});
