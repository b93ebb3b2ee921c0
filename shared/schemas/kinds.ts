/**
 * The domain vocabulary of each device kind, defined once: its raw measurement, the field(s) every
 * reading of it has one of (so "a reading arrived" can be asked of the store), its aggregate measurement
 * and that measurement's window. Stores, the aggregator, retention and the KPI maths read it here.
 */
import { KINDS, type Kind } from './topics.ts';

export interface KindVocabulary {
  /** Raw measurement in the store (one point per reading). */
  raw: Kind;
  /** Fields of which every reading of the kind has one (a vehicle's: its position, or its private use). */
  presenceFields: readonly string[];
  /** Aggregate measurement: one point per device and window. */
  aggregate: AggregateMeasurement;
  /** That aggregate's window length. */
  windowMs: number;
}

export type AggregateMeasurement = 'energy_15m' | 'fleet_1h' | 'parking_15m';

export const VOCABULARY: Record<Kind, KindVocabulary> = {
  energy: { raw: 'energy', presenceFields: ['energy_wh'], aggregate: 'energy_15m', windowMs: 15 * 60_000 },
  fleet: { raw: 'fleet', presenceFields: ['lat', 'private_use'], aggregate: 'fleet_1h', windowMs: 60 * 60_000 },
  parking: { raw: 'parking', presenceFields: ['occupied'], aggregate: 'parking_15m', windowMs: 15 * 60_000 },
};

export const RAW_MEASUREMENTS: Kind[] = [...KINDS];
export const AGGREGATE_MEASUREMENTS: AggregateMeasurement[] = KINDS.map((k) => VOCABULARY[k].aggregate);

/** Window length of each aggregate measurement. */
export const WINDOW_MS = Object.fromEntries(KINDS.map((k) => [VOCABULARY[k].aggregate, VOCABULARY[k].windowMs])) as Record<AggregateMeasurement, number>;
