/**
 * A TCP proxy on loopback that a test controls, standing for a town edge's WAN link: `cut()` drops
 * every connection and refuses new ones (a dead link: connections are closed at once, as a reset),
 * `restore()` lets them through again, `latencyMs` delays each chunk in both directions.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Milliseconds added to every chunk, each way. */
  latencyMs: number;
  readonly up: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let up = true;
  const state = { latencyMs: 0 };
  const pipe = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => {
      if (state.latencyMs === 0) to.write(chunk);
      else setTimeout(() => to.destroyed || to.write(chunk), state.latencyMs);
    });
    from.on('close', () => (state.latencyMs === 0 ? to.destroy() : setTimeout(() => to.destroy(), state.latencyMs)));
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    if (!up) return void client.resetAndDestroy();
    const upstream = net.connect(target);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(ms: number) {
      state.latencyMs = ms;
    },
    get up() {
      return up;
    },
    cut() {
      up = false;
      for (const s of open) s.resetAndDestroy();
    },
    restore() {
      up = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
