/**
 * Alarms under `npm start`, as an operator meets them: a device that stops publishing shows up as
 * an alarm in the API within its rule's period plus a minute; a kill -9 and restart neither
 * duplicates nor loses it; the device publishing again clears it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/gateway.ts';
import { freePort } from '../support/services.ts';
import { spawnScript, type Spawned } from '../support/spawn.ts';

const run = promisify(execFile);
const SILENCE_MIN = 0.5;

describe('alarms on npm start', () => {
  let node: Spawned | undefined;
  afterAll(() => {
    node?.child.kill('SIGKILL');
  });

  it('raises a silent device within its period + 1 minute, keeps it once across kill -9, and clears it when the device is heard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alarms-start-'));
    writeFileSync(join(dir, 'rules.json'), JSON.stringify({ defaults: [{ id: 'meter-silent', type: 'silence', kind: 'energy', minutes: SILENCE_MIN, severity: 'major' }] }));
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const start = () =>
      spawnScript('npm start', ['start.ts', '--no-simulate', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort)], { OPS_PORT_BASE: '0', ALARM_RULES: join(dir, 'rules.json'), ALARM_TICK_MS: '1000' }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL']);
    node = await start();
    const out = node.log();
    const keyIn = (log: string) => new RegExp('^\\s+kalamata\\s+(sck_\\S+)$', 'm').exec(log)![1]!;
    let key = keyIn(out);
    const alarms = async (municipality = 'kalamata', k = key) => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/municipalities/${municipality}/alarms?from=${Date.now() - 86_400_000}`, { headers: { authorization: `Bearer ${k}` } });
      return { status: res.status, rows: res.ok ? ((await res.json()) as { rows: { id: string; state: string; subject: string; rule: string; raisedAt: string; clearedAt: string | null }[] }).rows.filter((r) => r.subject === 'kalamata-demo-meter') : [] };
    };
    const line = /mosquitto_pub (.*) \\\n\s+(-t .*)$/m.exec(out)!;
    const publish = () => run('mosquitto_pub', `${line[1]} ${line[2]}`.match(/'[^']*'|\S+/g)!.map((a) => a.replace(/^'|'$/g, '')), { timeout: 10_000 });

    await publish();
    const heard = Date.now();
    await waitUntil(async () => (await alarms()).rows.length > 0, (SILENCE_MIN + 1) * 60_000, 'the silent device as an alarm');
    const raisedAfterS = (Date.now() - heard) / 1000;
    const [raised] = (await alarms()).rows;
    expect(raised).toMatchObject({ state: 'raised', rule: 'meter-silent' });
    expect(raisedAfterS).toBeGreaterThanOrEqual(SILENCE_MIN * 60 - 1); // not before its period
    expect((await alarms('orestiada')).status).toBe(403); // another municipality's alarms are not this key's

    node.child.kill('SIGKILL');
    await new Promise((r) => node!.child.once('exit', r));
    node = await start();
    // Past the silence period again: a stage that forgot its open alarm would raise a second one by now.
    await new Promise((r) => setTimeout(r, SILENCE_MIN * 60_000 + 5000));
    key = keyIn(node.log()); // each start prints the keys it made
    expect((await alarms()).rows).toEqual([raised]);

    await publish();
    await waitUntil(async () => (await alarms()).rows[0]?.state === 'cleared', 30_000, 'the alarm cleared');
    const after = (await alarms()).rows;
    expect(after.map((r) => [r.id, r.state])).toEqual([[raised!.id, 'cleared']]);
    console.info(`[alarms, npm start] silent device raised ${raisedAfterS.toFixed(1)} s after its last reading (rule: ${SILENCE_MIN * 60} s), one alarm across kill -9, cleared when heard`);
    node.child.kill('SIGTERM');
  }, 240_000);
});
