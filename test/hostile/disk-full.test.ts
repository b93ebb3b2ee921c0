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
import { startNode, type StartedNode } from '../support/npm-start.ts';
import type { Spawned } from '../support/spawn.ts';

describe('npm start on a full disk', () => {
  let node: Spawned;
  let dir: string;
  let device: StartedNode['device'];
  let mqttUrl: string;
  let api: StartedNode['api'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'diskfull-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', dir]);
    ({ node, device, mqttUrl, api } = await startNode(dir));
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
