/**
 * The store at the end of the pipeline, as an interface: InfluxDB implements it in production
 * (`shared/influx/telemetry-store.ts`), SQLite on one machine (`shared/embedded/sqlite-store.ts`).
 * The writer and the aggregator write through it, the aggregator finds a device's previous window
 * in it, and the KPI maths reads windows and last-seen times from it.
 *
 * Writes are idempotent with InfluxDB's semantics: a point is identified by its measurement, its
 * tag set and its timestamp; writing it again replaces the fields it carries.
 */
import type { KpiSource } from '../kpi/source.ts';
import type { Kind } from '../schemas/topics.ts';
import { ALARM_MEASUREMENT, type AlarmSource } from './alarms.ts';
import type { EdgeSource } from '../edge/view.ts';

export type FieldValue = number | boolean | string;

export interface StorePoint {
  measurement: string;
  /** Never changed once the point is built: the points of one device message share them. */
  tags: Readonly<Record<string, string>>;
  fields: Record<string, FieldValue>;
  /** Epoch ms. */
  ts: number;
}

/** The pipeline's own metrics, as the monitor writes them (with the raw readings, tag `service` and the metric's labels). */
export const PIPELINE_MEASUREMENT = 'pipeline';

export interface TelemetryStore extends KpiSource, AlarmSource, EdgeSource {
  readonly kind: 'influxdb' | 'embedded';
  /** Resolves once every point is durably stored. */
  write(points: StorePoint[]): Promise<void>;
  /**
   * The `carry` field (JSON) of each device's newest `measurement` point strictly before `before`,
   * looking back at most `lookbackMs`.
   */
  previousCarries(measurement: string, before: number, devices: string[], lookbackMs: number): Promise<Map<string, string>>;
  /**
   * One device's points of `measurement` with `from <= ts < to`, oldest first (all their fields):
   * its raw readings, or its aggregate windows. The aggregator recomputes late windows from them.
   */
  devicePoints(measurement: string, device: string, from: number, to: number): Promise<StorePoint[]>;
  /**
   * Deletes the raw readings of a kind older than `before` (epoch ms) — of one municipality, or of
   * all: the writer's enforcement of each kind's retention. Aggregates are never touched.
   */
  deleteRaw(kind: Kind, before: number, municipality?: string): Promise<void>;
  /** Deletes every point tagged with this device — raw, aggregates, alarms: an erasure request. */
  deleteDevice(device: string): Promise<void>;
  /**
   * True when `write` failed because the store refuses what the points hold (retrying the same
   * points cannot help), false when it is away or failing (retrying can).
   */
  isRefusal(err: unknown): boolean;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Aggregate measurements (`energy_15m`, `fleet_1h`, …) go to the aggregates' bucket. */
export const isAggregate = (measurement: string) => /_\d+[mhd]$/.test(measurement);

/** Kept with the aggregates (their bucket, their retention): the aggregates and the alarms. */
export const keptLong = (measurement: string) => isAggregate(measurement) || measurement === ALARM_MEASUREMENT;

/** A point's identity within its measurement: its tags in a fixed order (InfluxDB's series key). */
export const seriesKey = (tags: Record<string, string>) =>
  Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`)
    .join(',');
