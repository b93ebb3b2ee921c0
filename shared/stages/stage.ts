/**
 * What a stage of the pipeline is, for everything that runs stages: one definition per stage —
 * its name, its settings schema, its default ops port, and how it starts from its config and the
 * engines it is given. `npm run service -- NAME`, `npm start`'s single process, the test harness
 * and the benchmark's launcher all loop over the catalogue (`services/catalogue.ts`) instead of
 * wiring each stage themselves.
 */
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { ApiKeyStore } from '../auth/api-keys.ts';
import type { Bus } from '../bus/bus.ts';
import type { Readiness } from '../http/ops-server.ts';
import type { Logger } from '../logging.ts';
import type { DeviceRegistry } from '../registry/device-registry.ts';
import type { TelemetryStore } from '../store/store.ts';

/**
 * What a stage may use. The engines are factories, called only by stages that need them, so a
 * runner opens what is used (a gateway never connects to InfluxDB): the services' runner opens
 * Kafka and InfluxDB, `npm start` hands out its embedded (or real) engines, tests their own.
 */
export interface StageDeps {
  log: Logger;
  registry: Registry;
  /** The bus gave up on a consumer for good: the runner restarts or exits. */
  onFatal: (err: Error) => void;
  bus(): Bus;
  store(): TelemetryStore;
  devices(): DeviceRegistry;
  keys(): ApiKeyStore;
  /** The catalogue the stage runs among (the monitor scrapes the others). */
  stages(): readonly StageDefinition[];
}

export interface RunningStage {
  /** What `/readyz` answers. */
  readiness(): Readiness | Promise<Readiness>;
  /** Stop taking work, drain what is in flight, close. */
  stop(): Promise<void>;
  /** A few facts for the "running" log line. */
  describe: Record<string, unknown>;
}

/**
 * A topic of the pipeline by its role; its name is a setting (`TOPIC_RAW`, …). `edges` is every
 * town edge's own topic (`<TOPIC_RAW>.edge.<id>`): a prefix, not one topic.
 */
export type TopicRole = 'raw' | 'normalized' | 'deadletter' | 'edges';
/** Where the store keeps what: raw readings (and the pipeline's own metrics), or aggregates. */
export type StoreArea = 'raw' | 'aggregates';

/**
 * What a stage may touch, and nothing more: its bus principal's ACLs and its store token are
 * derived from this (services/rights.ts), so a stage's rights are written where the stage is.
 */
export interface StageRights {
  /** Topics it reads, under its own consumer group (its `BUS_GROUP_ID`, by default its name). */
  consumes?: readonly TopicRole[];
  /** Topics it writes. */
  produces?: readonly TopicRole[];
  /** Other stages whose consumer groups' committed offsets it reads. */
  watchesGroupsOf?: readonly string[];
  /** What it reads and writes in the store. */
  store?: { read: readonly StoreArea[]; write: readonly StoreArea[] };
  /** It reads the device registry (authentication, enrichment): the central registry's topic, when that is where it lives. */
  devices?: 'read';
}

/** The figures of `npm start`'s status line a stage contributes to, each a metric it exports (summed over stages). */
export interface StatusMetrics {
  stored?: string;
  online?: string;
  deadLetters?: string;
}

export interface StageDefinition<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  /** The settings, validated at start (and documented from their descriptions). */
  env: S;
  /** Part of `npm start`'s single process. */
  singleNode: boolean;
  /**
   * `npm start`'s thread for it: `front` (what devices and users talk to) or `log` (stages that
   * only work through the log, in the second thread).
   */
  thread: 'front' | 'log';
  /** On the path of every reading (device → store): what the benchmark launches. */
  carriesReadings: boolean;
  /**
   * Node.js flags its process must start with (heap sizes, which V8 fixes at start): run as a
   * service, it starts itself again with them when they are missing (shared/node-flags.ts).
   */
  nodeFlags?: readonly string[];
  rights: StageRights;
  /** What its dead letters say in `stage` (a stage whose rights produce dead letters has one). */
  deadLetterStage?: string;
  status?: StatusMetrics;
  start(cfg: z.infer<z.ZodObject<S>>, deps: StageDeps): Promise<RunningStage>;
}

/** The ops port a stage listens on when its settings do not say (every stage's schema has an `OPS_PORT` default). */
export function defaultOpsPort(stage: StageDefinition): number {
  const port = (stage.env as { OPS_PORT?: z.ZodType<number> }).OPS_PORT?.parse(undefined);
  if (port === undefined) throw new Error(`stage ${stage.name} has no default OPS_PORT`);
  return port;
}

/** Keeps each definition's config type tied to its schema. */
export const defineStage = <S extends z.ZodRawShape>(d: StageDefinition<S>): StageDefinition<S> => d;
