import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceConnections } from './device-connections.ts';

class FakeConn extends EventEmitter {
  destroyed = false;
  close() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

describe('DeviceConnections', () => {
  it('counts a connection from its login until its socket closes, not counting one closed during the login', () => {
    let gauge = 0;
    const c = new DeviceConnections<string>((d) => (gauge += d));
    const a = new FakeConn();
    const b = new FakeConn();
    c.add('dev', { client: 'a', clientId: 'dev', conn: a });
    c.add('dev', { client: 'b', clientId: 'dev:2', conn: b });
    expect(c.othersThan('dev', 'dev:3')).toBe(2);
    expect(c.othersThan('dev', 'dev')).toBe(1); // a reconnect under the same id replaces it
    a.close();
    expect(c.othersThan('dev', 'dev:3')).toBe(1);
    const dead = new FakeConn();
    dead.close();
    c.add('dev', { client: 'dead', clientId: 'dev:9', conn: dead });
    expect(c.othersThan('dev', 'dev:3')).toBe(1);
    b.close();
    expect(c.devices()).toEqual([]);
    expect(gauge).toBe(0);
  });

  it('for any order of logins and socket closes, counts exactly the sockets still open', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.record({ op: fc.constant('open' as const), id: fc.nat(5) }), fc.record({ op: fc.constant('close' as const), i: fc.nat(50) })), { maxLength: 80 }), (ops) => {
        let gauge = 0;
        const c = new DeviceConnections<number>((d) => (gauge += d));
        const conns: { conn: FakeConn; id: number }[] = [];
        for (const o of ops) {
          if (o.op === 'open') {
            const conn = new FakeConn();
            conns.push({ conn, id: o.id });
            c.add('dev', { client: conns.length, clientId: `dev:${o.id}`, conn });
          } else conns[o.i % Math.max(1, conns.length)]?.conn.close();
        }
        const open = conns.filter((x) => !x.conn.destroyed);
        expect(gauge).toBe(open.length);
        expect(c.othersThan('dev', 'none')).toBe(open.length);
      }),
    );
  });
});
