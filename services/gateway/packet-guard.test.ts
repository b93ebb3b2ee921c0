import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { GuardedConnection, PacketSizeGuard } from './packet-guard.ts';

const limits = { connectBytes: 1024, packetBytes: 70_000 };
const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'dev-1', keepalive: 30, username: 'dev-1', password: Buffer.from('secret') });
const publish = (bytes: number) => mqttPacket.generate({ cmd: 'publish', topic: 'city/m/energy/dev-1/telemetry', payload: Buffer.alloc(bytes), qos: 1, messageId: 1, retain: false, dup: false });

/** A CONNECT fixed header announcing `n` bytes that will follow. */
const connectHeader = (n: number) => {
  const len: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.from([0x10, ...len]);
};

/** A connected pair of loopback sockets: the client's and the one the server accepted. */
async function socketPair() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = createConnection(port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [Socket];
  return { server, client, accepted };
}

describe('PacketSizeGuard', () => {
  it('passes a real session (CONNECT, publishes up to the limit) fed in chunks of any size', () => {
    const stream = Buffer.concat([connect, publish(10), publish(65_536), publish(0)]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 50 }), (cuts) => {
        const g = new PacketSizeGuard(limits);
        let at = 0;
        for (const c of [...cuts, stream.length]) {
          const v = g.feed(stream.subarray(at, Math.min(stream.length, at + c)));
          expect(v).toBeUndefined();
          at = Math.min(stream.length, at + c);
        }
      }),
    );
  });

  it('cuts a CONNECT announcing 200 MB from its first five bytes, before any of the body', () => {
    const g = new PacketSizeGuard(limits);
    expect(g.feed(connectHeader(200 * 1024 * 1024))).toEqual({ reason: 'packet_too_large', type: 1, announced: 200 * 1024 * 1024, limit: 1024 });
  });

  it('cuts a publish over the packet limit after CONNECT, and a first packet that is not CONNECT', () => {
    const g = new PacketSizeGuard(limits);
    expect(g.feed(connect)).toBeUndefined();
    expect(g.feed(publish(80_000).subarray(0, 4))).toMatchObject({ reason: 'packet_too_large', type: 3 });
    expect(new PacketSizeGuard(limits).feed(publish(1))).toMatchObject({ reason: 'first_not_connect' });
  });

  it('cuts a remaining length of more than four bytes', () => {
    const g = new PacketSizeGuard({ connectBytes: 1e12, packetBytes: 1e12 });
    expect(g.feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toMatchObject({ reason: 'malformed_length' });
  });

  it('never throws on any byte stream (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const g = new PacketSizeGuard(limits);
        for (const c of chunks) if (g.feed(c)) break;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('GuardedConnection', () => {
  it('sends the packets written in one tick (as mqtt-packet writes them, a few chunks each) in one socket write, intact', async () => {
    const { server, client, accepted } = await socketPair();
    try {
      // What the socket hands to the kernel: each _write or _writev is one system call.
      const writes: number[] = [];
      const sock = accepted as unknown as { _write: (c: Buffer, e: string, cb: () => void) => void; _writev: (cs: { chunk: Buffer }[], cb: () => void) => void };
      const single = sock._write.bind(accepted);
      const vector = sock._writev.bind(accepted);
      sock._write = (c, e, cb) => {
        writes.push(c.length);
        single(c, e, cb);
      };
      sock._writev = (cs, cb) => {
        writes.push(cs.reduce((n, x) => n + x.chunk.length, 0));
        vector(cs, cb);
      };
      const conn = new GuardedConnection(accepted, new PacketSizeGuard(limits), () => undefined);
      const pubacks = [1, 2, 3, 4, 5].map((messageId) => mqttPacket.generate({ cmd: 'puback', messageId }));
      const expected = Buffer.concat(pubacks);
      const received: Buffer[] = [];
      client.on('data', (d: Buffer) => received.push(d));
      for (const messageId of [1, 2, 3, 4, 5]) mqttPacket.writeToStream({ cmd: 'puback', messageId }, conn);
      while (Buffer.concat(received).length < expected.length) await once(client, 'data');
      expect(Buffer.concat(received)).toEqual(expected);
      // Without a cork on the socket each packet's chunks went out one system call at a time (here 15).
      expect(writes.length).toBeLessThanOrEqual(2);
      expect(writes.reduce((a, b) => a + b, 0)).toBe(expected.length);
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });

  it('says when the socket is full, and when it has drained (aedes waits for that before writing more)', async () => {
    const { server, client, accepted } = await socketPair();
    try {
      client.pause();
      const conn = new GuardedConnection(accepted, new PacketSizeGuard(limits), () => undefined);
      const big = Buffer.alloc(1 << 20);
      let full = false;
      for (let i = 0; i < 64 && !full; i++) full = !conn.write(big);
      expect(full).toBe(true);
      const drained = once(conn, 'drain');
      client.resume();
      await drained;
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });

  it("paces a logged-in device's publishes on the wire: over its rate, its bytes stay in the kernel, not on the heap, and arrive intact", async () => {
    const { server, client, accepted } = await socketPair();
    try {
      const conn = new GuardedConnection(accepted, new PacketSizeGuard(limits), () => undefined);
      // 10 at once, then one per 20 ms.
      let tokens = 10;
      let last = Date.now();
      conn.pacer = () => {
        const now = Date.now();
        tokens = Math.min(10, tokens + (now - last) / 20);
        last = now;
        if (tokens < 1) return Math.ceil((1 - tokens) * 20);
        tokens -= 1;
        return 0;
      };
      let paced = 0;
      conn.onPaced = () => paced++;
      const parser = mqttPacket.parser();
      let parsed = 0;
      parser.on('packet', () => parsed++);
      conn.on('data', (d: Buffer) => parser.parse(d));
      client.write(connect);
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      client.write(Buffer.concat(Array.from({ length: 200 }, () => publish(100))));
      await new Promise((r) => setTimeout(r, 400));
      const inTime = parsed - 1;
      const allowed = 10 + (Date.now() - t0) / 20;
      // Held back: about what the rate allows (not the 200 sent), every packet intact.
      expect(inTime).toBeLessThanOrEqual(allowed + 2);
      expect(inTime).toBeGreaterThanOrEqual(20);
      expect(paced).toBeGreaterThan(5);
      while (parsed < 201) await once(conn, 'data');
      expect(parsed).toBe(201);
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });
});
