/**
 * A way readings reach the gateway — MQTT, HTTP ingest (with The Things Stack's webhook),
 * ChirpStack's MQTT integration, and the next one. Each is a module that starts over the shared
 * context (the login, the limits, the path onto the bus and the spool, the sink for ingest dead
 * letters: `context.ts`) and stops in two steps, so the gateway drains the same way whatever it
 * listens on; `gateway.ts` only composes the list (`sources.ts`).
 */
import type { GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';

export interface RunningSource {
  /** Facts for the gateway's "listening" line and the stage's description (its ports, say). */
  describe: Record<string, unknown>;
  /** The registry changed: drop what a revoked device may no longer do. */
  registryChanged?(): void;
  /** Stops taking input; what is in flight finishes (before the forwarder drains). */
  stopTaking(): Promise<void> | void;
  /** Closes what is left, once the forwarder has drained. */
  close(): Promise<void>;
}

export interface GatewaySource<R extends RunningSource = RunningSource> {
  name: string;
  /** Off unless its settings turn it on (ChirpStack's broker URL, say). */
  enabled(cfg: GatewayConfig): boolean;
  start(ctx: GatewayContext): Promise<R>;
}

/** Keeps a source's running type tied to its definition. */
export const defineSource = <R extends RunningSource>(s: GatewaySource<R>): GatewaySource<R> => s;
