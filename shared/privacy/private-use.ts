/**
 * Private use of a municipal vehicle (GDPR; EDPB guidelines 1/2020 on connected vehicles, WP29
 * opinion 2/2017 on data processing at work): while a vehicle is in private use the municipality
 * keeps what it may — speed, ignition, fuel, and the distance and times the aggregator derives
 * from them — and never where the vehicle was. A vehicle is in private use
 *   - always, when its registry entry says so (attribute `use=private`), or
 *   - outside its municipality's working hours, when the municipality declares them
 *     (`FLEET_WORKING_HOURS`, local time in Europe/Athens).
 * The normaliser applies it: a private reading loses `lat`, `lon` and `heading_deg` before it is
 * produced (counted), and a dead letter of a vehicle that may be in private use leaves out the
 * payload it came with — a rejected reading's time cannot be trusted to say which hours it was.
 */
import { z } from 'zod';
import { jsonSetting } from '../json-text.ts';
import { offsetAt } from '../kpi/periods.ts';
import { identSchema } from '../schemas/topics.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM');
const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

const workingHoursSchema = z
  .object({
    /** ISO weekdays, 1 = Monday … 7 = Sunday. */
    days: z.array(z.number().int().min(1).max(7)).min(1),
    from: hhmm,
    to: hhmm,
  })
  .refine((w) => toMinutes(w.from) < toMinutes(w.to), { message: "'from' must come before 'to' (working hours within one day)" });

export type WorkingHours = z.infer<typeof workingHoursSchema>;

export const privateUseEnv = {
  FLEET_WORKING_HOURS: jsonSetting(z.record(identSchema, workingHoursSchema)).meta({
    description:
      'per municipality, its vehicles\' working hours as JSON, e.g. {"kalamata": {"days": [1,2,3,4,5], "from": "07:00", "to": "17:00"}} (Europe/Athens time): outside them a vehicle is in private use and its positions are not kept; a vehicle with the registry attribute use=private is always',
    docDefault: '{} (none: only vehicles marked use=private)',
  }),
};

export type PrivateUseSettings = z.infer<z.ZodObject<typeof privateUseEnv>>;

/** The registry attribute (and value) that marks a vehicle as always in private use. */
export const PRIVATE_USE_ATTRIBUTE = { key: 'use', value: 'private' } as const;

/** The canonical fleet values that say where a vehicle was: dropped while it is in private use. */
export const POSITION_FIELDS = ['lat', 'lon', 'heading_deg'] as const;

export class PrivateUsePolicy {
  /** Athens' offset per UTC hour (it changes only on the hour), so a reading costs no Intl call. */
  private readonly offsets = new Map<number, number>();

  private readonly hours: PrivateUseSettings['FLEET_WORKING_HOURS'];

  constructor(hours: PrivateUseSettings['FLEET_WORKING_HOURS']) {
    this.hours = hours;
  }

  private static markedPrivate(attrs: Record<string, string | number>): boolean {
    return attrs[PRIVATE_USE_ATTRIBUTE.key] === PRIVATE_USE_ATTRIBUTE.value;
  }

  /** Whether a vehicle of `municipality` with these registry attributes was in private use at `ts`. */
  isPrivate(municipality: string, attrs: Record<string, string | number>, ts: number): boolean {
    if (PrivateUsePolicy.markedPrivate(attrs)) return true;
    const w = this.hours[municipality];
    if (!w) return false;
    const local = ts + this.offset(ts);
    const day = new Date(local).getUTCDay() || 7;
    const minute = Math.floor((local % 86_400_000) / 60_000);
    return !w.days.includes(day) || minute < toMinutes(w.from) || minute >= toMinutes(w.to);
  }

  /** Whether a vehicle may ever be in private use (then its dead letters keep no payload). */
  mayBePrivate(municipality: string, attrs: Record<string, string | number>): boolean {
    return PrivateUsePolicy.markedPrivate(attrs) || this.hours[municipality] !== undefined;
  }

  private offset(ts: number): number {
    const hour = Math.floor(ts / 3_600_000);
    let o = this.offsets.get(hour);
    if (o === undefined) {
      if (this.offsets.size > 10_000) this.offsets.clear();
      o = offsetAt(hour * 3_600_000);
      this.offsets.set(hour, o);
    }
    return o;
  }
}

/** Why a dead letter's original was left out. */
export const WITHHELD_PRIVATE_USE = 'private use: a vehicle that may be in private use has its payload (positions) left out';
