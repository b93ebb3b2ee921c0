/**
 * A full data volume under `npm start`: the product stays up, refuses new QoS 1 readings (no
 * PUBACK) while nothing can be made durable, keeps the KPI API answering, and recovers by itself
 * once space is freed — with every reading it acknowledged stored. The data directory is a small
 * tmpfs (mounted for the test; the machine runs tests as root), filled with a file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/gateway.ts';
import { freePort } from '../support/services.ts';
import { spawnScript, type Spawned } from '../support/spawn.ts';

describe('npm start on a full disk', () => {
  let node: Spawned;
  let dir: string;
  let device: { id: string; secret: string; topic: string };
  let mqttUrl: string;
  let api: (path: string) => Promise<{ status: number; rows: Record<string, unknown>[] }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'diskfull-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', dir]);
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    node = await spawnScript('npm start', ['start.ts', '--no-simulate', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort)], { OPS_PORT_BASE: '0' }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL']);
    const out = node.log();
    const m = /-i (\S+) -u \S+ -P '([^']+)' -q 1 \\\n\s+-t (\S+)/.exec(out)!;
    device = { id: m[1]!, secret: m[2]!, topic: m[3]! };
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const key = /^\s+kalamata\s+(sck_\S+)$/m.exec(out)![1]!;
    api = async (path) => {
      // A fresh connection each time: this test is about the server staying up, not about keep-alive.
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, { headers: { authorization: `Bearer ${key}`, connection: 'close' } });
      return { status: res.status, rows: ((await res.json()) as { rows?: Record<string, unknown>[] }).rows ?? [] };
    };
  });
  afterAll(() => {
    node?.child.kill('SIGKILL');
    spawnSync('umount', ['-l', dir]);
  });

  /** Publishes one reading; 'acked' with a PUBACK, 'refused' when the gateway closed the connection instead. */
  async function publish(ts: number): Promise<'acked' | 'refused'> {
    let c;
    try {
      c = await mqtt.connectAsync(mqttUrl, { clientId: device.id, username: device.id, password: device.secret, reconnectPeriod: 0, connectTimeout: 5000 });
    } catch {
      return 'refused';
    }
    const r = await new Promise<'acked' | 'refused'>((resolve) => {
      c.once('close', () => resolve('refused'));
      c.publish(device.topic, JSON.stringify({ ts, energy_wh: ts / 1e9 }), { qos: 1 }, (err) => resolve(err ? 'refused' : 'acked'));
    });
    c.end(true);
    return r;
  }
  const lastSeen = async () => {
    const row = (await api('/municipalities/kalamata/health')).rows.find((r) => r.device === device.id);
    return typeof row?.last_seen === 'string' ? Date.parse(row.last_seen) : 0;
  };

  it('refuses readings while the disk is full, stays up, and recovers by itself when space is freed', async () => {
    const t0 = Date.now() - 60_000;
    expect(await publish(t0)).toBe('acked');
    await waitUntil(async () => (await lastSeen()) === t0, 20_000, 'the first reading stored');

    // Fill the volume.
    spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
    const during: string[] = [];
    for (let i = 1; i <= 5; i++) during.push(await publish(t0 + i * 1000));
    console.log(`[disk full] publishes while full: ${during.join(', ')}`);
    expect(during.filter((r) => r === 'acked').length).toBeLessThan(5); // it cannot make them all durable
    expect(node.child.exitCode).toBeNull();
    expect((await api('/municipalities/kalamata/health')).status).toBe(200); // the KPI API stays up

    rmSync(join(dir, 'filler'));
    const after = t0 + 30_000;
    await waitUntil(async () => (await publish(after)) === 'acked', 60_000, 'a PUBACK once space is back');
    await waitUntil(async () => (await lastSeen()) >= after, 60_000, 'the reading after recovery stored');
    expect(node.child.exitCode).toBeNull();
    expect(node.log()).not.toMatch(/ENOSPC[\s\S]*at SonicBoom/); // no crash trace from the log file
  }, 180_000);
});
