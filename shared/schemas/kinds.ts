/**
 * The domain vocabulary of each device kind, defined once: its raw measurement, the field every
 * reading of it has (so "a reading arrived" can be asked of the store), its aggregate measurement
 * and that measurement's window. Stores, the aggregator, retention and the KPI maths read it here.
 */
import { KINDS, type Kind } from './topics.ts';

export interface KindVocabulary {
  /** Raw measurement in the store (one point per reading). */
  raw: Kind;
  /** A field present on every reading of the kind. */
  presenceField: string;
  /** Aggregate measurement: one point per device and window. */
  aggregate: AggregateMeasurement;
  /** That aggregate's window length. */
  windowMs: number;
}

export type AggregateMeasurement = 'energy_15m' | 'fleet_1h' | 'parking_15m';

export const VOCABULARY: Record<Kind, KindVocabulary> = {
  energy: { raw: 'energy', presenceField: 'energy_wh', aggregate: 'energy_15m', windowMs: 15 * 60_000 },
  fleet: { raw: 'fleet', presenceField: 'lat', aggregate: 'fleet_1h', windowMs: 60 * 60_000 },
  parking: { raw: 'parking', presenceField: 'occupied', aggregate: 'parking_15m', windowMs: 15 * 60_000 },
};

export const RAW_MEASUREMENTS: Kind[] = [...KINDS];
export const AGGREGATE_MEASUREMENTS: AggregateMeasurement[] = KINDS.map((k) => VOCABULARY[k].aggregate);

/** Window length of each aggregate measurement. */
export const WINDOW_MS = Object.fromEntries(KINDS.map((k) => [VOCABULARY[k].aggregate, VOCABULARY[k].windowMs])) as Record<AggregateMeasurement, number>;
