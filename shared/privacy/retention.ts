/**
 * How long raw readings are kept, per kind and municipality (GDPR: a vehicle's positions follow
 * its driver, so they are kept a month, not the raw store's 90 days). The raw store's own
 * retention (the raw bucket's, `npm start`'s RAW_RETENTION_DAYS) is the longest; a kind may keep
 * less, and a municipality may keep a kind less still — never more (the store would not have it).
 * The writer deletes what is past its retention; the aggregator does not reopen a window whose
 * readings are gone. Aggregates are kept for their own, longer retention.
 */
import { z } from 'zod';
import { int } from '../config.ts';
import { jsonSetting } from '../json-text.ts';
import { KINDS, identSchema, type Kind } from '../schemas/topics.ts';

const DAY_MS = 86_400_000;
/** The raw store's retention: the raw bucket's, and npm start's RAW_RETENTION_DAYS default. */
export const RAW_STORE_DAYS = 90;
/** The aggregates' retention: their bucket's (made by the project's set-up), and npm start's AGG_RETENTION_DAYS default. */
export const AGG_STORE_DAYS = 1825;
/** How long the bus keeps a topic's records: the local brokers' `log.retention.hours` (and Kafka's default). */
export const BUS_RETENTION_HOURS = 168;
/**
 * The shortest raw retention a kind or municipality may have: the bus's. The bus carries every
 * reading for its whole retention, so a shorter raw retention would be a promise the platform
 * does not keep.
 */
export const MIN_RAW_DAYS = BUS_RETENTION_HOURS / 24;

const days = z.number().int().min(MIN_RAW_DAYS, `at least ${MIN_RAW_DAYS} days: the bus keeps every reading that long`).max(RAW_STORE_DAYS);
const overridesSchema = z.record(identSchema, z.partialRecord(z.enum(KINDS), days));

export const rawRetentionEnv = {
  RAW_RETENTION_DAYS_ENERGY: int(RAW_STORE_DAYS, MIN_RAW_DAYS, RAW_STORE_DAYS).describe("raw energy readings are kept this many days (at most the raw store's 90, at least the bus's 7)"),
  RAW_RETENTION_DAYS_FLEET: int(30, MIN_RAW_DAYS, RAW_STORE_DAYS).describe("raw vehicle readings — positions — are kept this many days (a driver's movements: no longer than needed; at least the bus's 7)"),
  RAW_RETENTION_DAYS_PARKING: int(RAW_STORE_DAYS, MIN_RAW_DAYS, RAW_STORE_DAYS).describe('raw parking-bay readings are kept this many days (at least the bus\'s 7)'),
  RAW_RETENTION_OVERRIDES: jsonSetting(overridesSchema)
    .meta({ description: 'a municipality keeping a kind shorter, as JSON days: {"kalamata": {"fleet": 14}} (7 to 90); longer than the kind\'s own setting counts as the kind\'s', docDefault: '{} (none)' }),
};

export type RawRetention = z.infer<z.ZodObject<typeof rawRetentionEnv>>;

const kindDays = (cfg: RawRetention, kind: Kind): number => ({ energy: cfg.RAW_RETENTION_DAYS_ENERGY, fleet: cfg.RAW_RETENTION_DAYS_FLEET, parking: cfg.RAW_RETENTION_DAYS_PARKING })[kind];

/** Days a municipality's raw readings of a kind are kept. */
export const rawRetentionDays = (cfg: RawRetention, kind: Kind, municipality: string): number => Math.min(kindDays(cfg, kind), cfg.RAW_RETENTION_OVERRIDES[municipality]?.[kind] ?? Infinity);

/** What to delete at `now`: each kind's raw readings before its cut, and each municipality's that keeps one shorter. */
export function retentionCuts(cfg: RawRetention, now: number): { kind: Kind; municipality?: string; before: number }[] {
  const out: { kind: Kind; municipality?: string; before: number }[] = [];
  for (const kind of KINDS) {
    if (kindDays(cfg, kind) < RAW_STORE_DAYS) out.push({ kind, before: now - kindDays(cfg, kind) * DAY_MS });
    for (const [municipality, days] of Object.entries(cfg.RAW_RETENTION_OVERRIDES)) {
      const d = days[kind];
      if (d !== undefined && d < kindDays(cfg, kind)) out.push({ kind, municipality, before: now - d * DAY_MS });
    }
  }
  return out;
}
