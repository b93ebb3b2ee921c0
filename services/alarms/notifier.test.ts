/**
 * Alarm notifications against real HTTP receivers on loopback: each transition arrives once,
 * signed; a receiver that is down gets everything once it is back, none twice; one that never
 * answers holds a bounded queue and delays nobody else's; what is not accepted in time is given up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';
import { signature, type Notification } from './webhooks.ts';

const SECRET = 'a-webhook-secret-of-kalamata';
const note = (municipality: string, i: number): Notification => ({ deliveryId: `a${i}:raised`, municipality, alarmId: `a${i}`, state: 'raised', body: JSON.stringify({ alarm: `a${i}`, i }) });

interface Received {
  delivery: string;
  body: string;
  valid: boolean;
}

/** A receiver: records what it accepts and checks each signature; `mode` says how it answers. */
async function receiver(mode: { current: 'ok' | 'hang' | 'error' }) {
  const got: Received[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (mode.current === 'hang') return; // never answers
      if (mode.current === 'error') return void res.writeHead(503).end();
      const ts = Number(req.headers['x-smartcity-timestamp']);
      got.push({ delivery: String(req.headers['x-smartcity-delivery']), body, valid: req.headers['x-smartcity-signature'] === signature(SECRET, ts, body) });
      res.writeHead(204).end();
    });
  };
  const server: Server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { got, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections();
});

function notifier(webhooks: Record<string, string>, o: Partial<NotifierOptions> = {}) {
  const delivered: string[] = [];
  const givenUp: { id: string; why: string }[] = [];
  const n = new Notifier({
    webhooks: Object.fromEntries(Object.entries(webhooks).map(([m, url]) => [m, { url, secret: SECRET }])),
    log: createLogger('t', 'silent'),
    registry: new Registry(),
    maxQueue: 100,
    giveUpMs: 60_000,
    timeoutMs: 500,
    maxBackoffMs: 200,
    onDelivered: async (x) => void delivered.push(x.deliveryId),
    onGivenUp: async (x, why) => void givenUp.push({ id: x.deliveryId, why }),
    ...o,
  });
  return { n, delivered, givenUp };
}

const until = async (cond: () => boolean, ms = 10_000) => {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('alarm notifications', () => {
  it('delivers each transition once, in order, signed; a repeat or an already delivered one is not sent', async () => {
    const r = await receiver({ current: 'ok' });
    servers.push(r.server);
    const { n, delivered } = notifier({ kalamata: r.url });
    n.delivered('a0:raised'); // delivered before a restart
    for (const i of [0, 1, 2, 1, 3]) n.send(note('kalamata', i));
    n.send(note('orestiada', 9)); // no webhook: nothing sent
    await until(() => delivered.length === 3);
    await new Promise((x) => setTimeout(x, 200));
    expect(r.got.map((g) => g.delivery)).toEqual(['a1:raised', 'a2:raised', 'a3:raised']);
    expect(r.got.every((g) => g.valid)).toBe(true);
    await n.stop();
  });

  it('a receiver down for a while gets everything once it is back, none twice', async () => {
    const mode = { current: 'error' as 'ok' | 'hang' | 'error' };
    const r = await receiver(mode);
    servers.push(r.server);
    const { n, delivered, givenUp } = notifier({ kalamata: r.url });
    for (let i = 0; i < 5; i++) n.send(note('kalamata', i));
    await new Promise((x) => setTimeout(x, 1500)); // refused meanwhile, retried
    expect(r.got).toEqual([]);
    mode.current = 'ok';
    await until(() => delivered.length === 5);
    expect(r.got.map((g) => g.delivery)).toEqual([0, 1, 2, 3, 4].map((i) => `a${i}:raised`));
    expect(givenUp).toEqual([]);
    await n.stop();
  });

  it("one that never answers holds a bounded queue, delays nobody else's, and is given up after the bound", async () => {
    const hang = await receiver({ current: 'hang' });
    const ok = await receiver({ current: 'ok' });
    servers.push(hang.server, ok.server);
    const { n, givenUp } = notifier({ kalamata: hang.url, mytilene: ok.url }, { maxQueue: 10, giveUpMs: 1500 });
    for (let i = 0; i < 50; i++) n.send(note('kalamata', i));
    // Beyond its queue's bound at once: 40 given up, 10 kept.
    expect(givenUp.filter((g) => /queue is full/.test(g.why))).toHaveLength(40);
    const t0 = Date.now();
    for (let i = 100; i < 105; i++) n.send(note('mytilene', i));
    await until(() => ok.got.length === 5);
    expect(Date.now() - t0).toBeLessThan(1000); // not behind kalamata's stuck queue
    await until(() => givenUp.length >= 41, 10_000);
    expect(givenUp.at(-1)!.why).toMatch(/no answer within 500 ms/);
    await n.stop();
  });
});
