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
}

export interface RunningStage {
  /** What `/readyz` answers. */
  readiness(): Readiness | Promise<Readiness>;
  /** Stop taking work, drain what is in flight, close. */
  stop(): Promise<void>;
  /** A few facts for the "running" log line. */
  describe: Record<string, unknown>;
}

export interface StageDefinition<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  /** The settings, validated at start (and documented from their descriptions). */
  env: S;
  /** Part of `npm start`'s single process. */
  singleNode: boolean;
  /** On the path of every reading (device → store): what the benchmark launches. */
  carriesReadings: boolean;
  start(cfg: z.infer<z.ZodObject<S>>, deps: StageDeps): Promise<RunningStage>;
}

/** Keeps each definition's config type tied to its schema. */
export const defineStage = <S extends z.ZodRawShape>(d: StageDefinition<S>): StageDefinition<S> => d;
