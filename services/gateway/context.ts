/**
 * What every gateway source shares — one login, one set of limits, one path onto the bus and one
 * sink for ingest dead letters — opened once by `startGateway` and handed to each source (MQTT,
 * HTTP ingest, The Things Stack, ChirpStack). A new source is a module that takes this context.
 */
import { join } from 'node:path';
import type { Bus } from '../../shared/bus/bus.ts';
import type { Logger } from '../../shared/logging.ts';
import { ConnectionBudget } from '../../shared/net/connection-budget.ts';
import { connectionCap, raiseOpenFileLimit, type FileLimit } from '../../shared/net/file-limit.ts';
import { RateLimiter } from '../../shared/rate-limit.ts';
import { DeviceRegistry, defaultRegistryPath } from '../../shared/registry/device-registry.ts';
import { SampledLog } from '../../shared/sampled-log.ts';
import { DeadLetterBudget, deadLetter, type DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { Authenticator } from './authenticator.ts';
import type { GatewayConfig } from './config.ts';
import { Forwarder } from './forwarder.ts';
import { TelemetryIngest } from './ingest.ts';
import { LoginThrottle } from './login-throttle.ts';
import type { GatewayMetrics } from './metrics.ts';
import { Spool } from './spool.ts';
import { LoginCache } from './login-cache.ts';
import { sideProducer } from './side-producer.ts';
import { edgeTopic } from '../../shared/edge/topics.ts';
import { EDGE_DEADLETTER_KEY_PREFIX } from '../../shared/edge/status.ts';

/** Where the gateway's records go: the pipeline's topics, or — a town's edge — its own topic for all of them. */
export interface GatewayOutput {
  readings: string;
  /** Its dead letters' topic, and what their keys start with there (an edge's are marked for the intake). */
  deadLetters: { topic: string; keyPrefix: string };
}

export function gatewayOutput(cfg: Pick<GatewayConfig, 'TOPIC_RAW' | 'TOPIC_DEADLETTER' | 'EDGE_MUNICIPALITIES' | 'GATEWAY_ID'>): GatewayOutput {
  if (!cfg.EDGE_MUNICIPALITIES) return { readings: cfg.TOPIC_RAW, deadLetters: { topic: cfg.TOPIC_DEADLETTER, keyPrefix: '' } };
  const own = edgeTopic(cfg.TOPIC_RAW, cfg.GATEWAY_ID);
  return { readings: own, deadLetters: { topic: own, keyPrefix: EDGE_DEADLETTER_KEY_PREFIX } };
}

/** What the gateway is given: the bus, its log and metrics, and what its dead letters say in `stage`. */
export interface GatewayDeps {
  bus: Bus;
  /** The registry it authenticates against; by default the file its settings name. */
  devices?: DeviceRegistry;
  log: Logger;
  metrics: GatewayMetrics;
  deadLetterStage: string;
}

export interface GatewayContext {
  cfg: GatewayConfig;
  registry: DeviceRegistry;
  authenticator: Authenticator;
  throttle: LoginThrottle;
  /** Each device's rate, shared by every source. */
  limiter: RateLimiter;
  /** The one path onto the bus (or the spool). */
  ingest: TelemetryIngest;
  forwarder: Forwarder;
  spool: Spool;
  /** Connections of every listener, below the open-file limit. */
  budget: ConnectionBudget;
  fileLimit: FileLimit | undefined;
  /** Refusals anyone can cause are logged here: rate-limited per source and in total. */
  refusalLog: SampledLog;
  /** Puts an ingest dead letter (what no registered device can own) on the bus; rejects when it cannot. */
  deadLetter: (d: DeadLetterInput) => Promise<void>;
  metrics: GatewayMetrics;
  log: Logger;
}

export async function openGatewayContext(cfg: GatewayConfig, deps: GatewayDeps): Promise<GatewayContext & { close(): Promise<void> }> {
  const { bus, log, metrics } = deps;
  const refusalLog = new SampledLog(log, undefined, (msg) => metrics.logLinesSuppressed.inc({ message: msg }));
  // Every socket is a file descriptor: the budget keeps connections below the file limit, with
  // room for the spool, the log and the bus (file-limit.ts, connection-budget.ts).
  const fileLimit = raiseOpenFileLimit();
  const maxTotal = connectionCap(cfg.MAX_CONNECTIONS, fileLimit, cfg.FILE_DESCRIPTOR_RESERVE);
  const budget = new ConnectionBudget(
    { maxTotal, maxPendingPerAddress: cfg.MAX_PENDING_CONNECTIONS_PER_ADDRESS || Math.max(128, Math.floor(maxTotal / 8)), pendingTimeoutMs: cfg.LOGIN_TIMEOUT_MS },
    (e) => {
      const reason = e.event === 'refused' ? `budget_${e.reason}` : e.event === 'evicted' ? 'evicted_for_room' : 'login_timeout';
      metrics.connectionsCut.inc({ reason });
      refusalLog.warn(`${reason}|${e.remote}`, { remote: e.remote, reason }, 'connection closed by the connection budget');
    },
  );
  const registry = deps.devices ?? new DeviceRegistry(cfg.DEVICE_REGISTRY ?? defaultRegistryPath(cfg.DATA_DIR));
  const spool = await Spool.open(cfg.SPOOL_DIR ?? join(cfg.DATA_DIR, 'gateway-spool', cfg.GATEWAY_ID), { maxBytes: cfg.SPOOL_MAX_BYTES, segmentBytes: cfg.SPOOL_SEGMENT_BYTES, fsyncDelayMs: cfg.SPOOL_FSYNC_MAX_DELAY_MS });
  const out = gatewayOutput(cfg);
  // Logins verified before, kept across restarts (login-cache.ts): a restart is not a login storm's worth of scrypt.
  const logins = new LoginCache(join(cfg.DATA_DIR, `gateway-logins.${cfg.GATEWAY_ID}.json`), log.child({ component: 'login-cache' }));
  const forwarder = new Forwarder(bus, spool, { topic: out.readings, lingerMs: cfg.BUS_LINGER_MS, batchMax: cfg.BUS_BATCH_MAX, sendTimeoutMs: cfg.BUS_SEND_TIMEOUT_MS, drainRate: cfg.SPOOL_DRAIN_RATE }, metrics, log.child({ component: 'forwarder' }));
  metrics.spoolProbe.records = () => spool.depthRecords;
  metrics.spoolProbe.bytes = () => spool.depthBytes;
  metrics.spoolProbe.oldest = () => spool.oldestTimestamp();
  const deadLetters = deadLetterSink(bus, out.deadLetters, deps.deadLetterStage);
  return {
    cfg,
    registry,
    authenticator: new Authenticator(registry, logins, (by) => metrics.secretChecks.inc({ by })),
    throttle: new LoginThrottle({ freeFailures: cfg.LOGIN_FREE_FAILURES, freeFailuresPerAddress: cfg.LOGIN_FREE_FAILURES_PER_ADDRESS, maxBlockMs: cfg.LOGIN_MAX_BLOCK_MS, concurrent: cfg.LOGIN_CONCURRENT_CHECKS, queue: cfg.LOGIN_QUEUE }),
    limiter: new RateLimiter(cfg.DEVICE_RATE_LIMIT, cfg.DEVICE_RATE_BURST),
    ingest: new TelemetryIngest(cfg.GATEWAY_ID, forwarder),
    forwarder,
    spool,
    budget,
    fileLimit,
    refusalLog,
    deadLetter: deadLetters.send,
    metrics,
    log,
    async close() {
      logins.close();
      budget.close();
      refusalLog.close();
      await deadLetters.close();
    },
  };
}

/**
 * Ingest dead letters, produced when the first one comes, within a per-device budget of bytes
 * (all unknown senders share one), so nothing an outsider sends grows the topic without bound.
 */
function deadLetterSink(bus: Bus, to: GatewayOutput['deadLetters'], stage: string): { send: (d: DeadLetterInput) => Promise<void>; close(): Promise<void> } {
  const producer = sideProducer(bus);
  const budget = new DeadLetterBudget(4096, 256 * 1024);
  return {
    send: async (d) => {
      const { key, value } = deadLetter(stage, d, budget).message;
      await producer.send(to.topic, [{ key: `${to.keyPrefix}${key}`, value }]);
    },
    close: () => producer.close(),
  };
}
