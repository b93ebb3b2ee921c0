/**
 * What an attacker without credentials does to a listener, for the hostile-input tests: hold idle
 * sockets, send request bodies a byte at a time, try secrets — from many loopback source addresses
 * (127.0.0.0/8 is all this machine's), bounded in count and time, stopping by themselves.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

/** Loopback source addresses 127.0.0.`from` … 127.0.0.`from + n - 1`. */
export const loopbackAddresses = (n: number, from = 10) => Array.from({ length: n }, (_, i) => `127.0.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 1}`);

export interface Attack {
  /** Connections the attacker opened, and how many of them the server closed. */
  stats: () => { opened: number; closedByServer: number; open: number };
  stop: () => void;
}

/**
 * Keeps `count` idle TCP connections to `port` (nothing sent), spread over `addresses`, opening a
 * new one whenever the server closes one, until stopped or `maxMs` passed.
 */
export function holdIdleSockets(port: number, count: number, addresses: string[], maxMs: number): Attack {
  return hold(port, count, addresses, maxMs, () => undefined);
}

/**
 * Keeps `count` HTTP POSTs to `path` open, their headers sent and their bodies trickling in a byte
 * every `everyMs` (Slowloris-style), opening a new one whenever the server closes one.
 */
export function slowBodies(port: number, path: string, count: number, addresses: string[], maxMs: number, everyMs = 2000): Attack {
  return hold(port, count, addresses, maxMs, (s) => {
    s.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nAuthorization: Bearer not-a-secret\r\n\r\n`);
    const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write('{')), everyMs);
    s.once('close', () => clearInterval(t));
  });
}

function hold(port: number, count: number, addresses: string[], maxMs: number, start: (s: Socket) => void): Attack {
  let opened = 0;
  let closedByServer = 0;
  let stopped = false;
  const sockets = new Set<Socket>();
  const open = (i: number) => {
    if (stopped) return;
    const s = connect({ port, host: '127.0.0.1', localAddress: addresses[i % addresses.length] });
    opened++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('connect', () => start(s));
    s.on('close', () => {
      sockets.delete(s);
      if (stopped) return;
      closedByServer++;
      // Reopen, a little later, as a determined attacker would.
      setTimeout(() => open(i), 100).unref();
    });
  };
  for (let i = 0; i < count; i++) open(i);
  const deadline = setTimeout(() => attack.stop(), maxMs);
  deadline.unref();
  const attack: Attack = {
    stats: () => ({ opened, closedByServer, open: sockets.size }),
    stop: () => {
      stopped = true;
      clearTimeout(deadline);
      for (const s of sockets) s.destroy();
    },
  };
  return attack;
}

/** One MQTT login on a raw socket: the CONNACK's return code (or 'closed'), and how long it took. */
export function mqttLogin(port: number, o: { clientId: string; username: string; password: string; localAddress?: string; timeoutMs?: number }): Promise<{ code: number | 'closed' | 'timeout'; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    const parser = mqttPacket.parser();
    const done = (code: number | 'closed' | 'timeout') => {
      clearTimeout(timer);
      s.destroy();
      resolve({ code, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done('timeout'), o.timeoutMs ?? 20_000);
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') done((p).returnCode ?? 0);
    });
    s.on('data', (d: Buffer) => parser.parse(d));
    s.on('error', () => undefined);
    s.on('close', () => done('closed'));
    s.on('connect', () => s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: o.clientId, keepalive: 30, username: o.username, password: Buffer.from(o.password) })));
  });
}

/** A POST with a fresh connection from `localAddress`: its status and how long it took. */
export function post(port: number, path: string, body: string, headers: Record<string, string>, localAddress?: string): Promise<{ status: number; ms: number; body: string }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', connection: 'close', ...headers }, ...(localAddress ? { localAddress } : {}), agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
