/**
 * The connections each device holds open now, counted by their sockets rather than by the
 * broker's events: a connection is counted from its login until its socket closes, however it
 * closes — DISCONNECT, a dropped TCP connection, a takeover, a close in the middle of the login —
 * and in whatever order aedes raises `clientReady` / `clientDisconnect` for it (for a socket that
 * closes during the login it may raise neither). So a flaky modem that drops its connection a
 * dozen times is never refused for sessions it no longer has.
 */
import type { EventEmitter } from 'node:events';

/** What a connection needs to be counted: its socket side, which says when it is gone. */
export interface CountedConnection<C> {
  client: C;
  clientId: string;
  conn: EventEmitter & { destroyed: boolean };
}

export class DeviceConnections<C> {
  private byDevice = new Map<string, Map<C, string>>();

  private readonly onChange: (delta: 1 | -1) => void;

  constructor(onChange: (delta: 1 | -1) => void = () => undefined) {
    this.onChange = onChange;
  }

  /** Connections of `deviceId` under client ids other than `clientId` (a reconnect under the same id replaces its old one). */
  othersThan(deviceId: string, clientId: string): number {
    let n = 0;
    for (const id of this.byDevice.get(deviceId)?.values() ?? []) if (id !== clientId) n++;
    return n;
  }

  /** Counts the connection until its socket closes; a socket closed already is not counted. */
  add(deviceId: string, c: CountedConnection<C>): void {
    if (c.conn.destroyed) return;
    let clients = this.byDevice.get(deviceId);
    if (!clients) this.byDevice.set(deviceId, (clients = new Map<C, string>()));
    if (clients.has(c.client)) return;
    clients.set(c.client, c.clientId);
    this.onChange(1);
    c.conn.once('close', () => {
      if (!clients.delete(c.client)) return;
      this.onChange(-1);
      if (clients.size === 0 && this.byDevice.get(deviceId) === clients) this.byDevice.delete(deviceId);
    });
  }

  clientsOf(deviceId: string): C[] {
    return [...(this.byDevice.get(deviceId)?.keys() ?? [])];
  }

  devices(): string[] {
    return [...this.byDevice.keys()];
  }
}
