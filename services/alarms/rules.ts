/**
 * Alarm rules as data (as ThingsBoard's alarm rules or FIWARE Perseo's): per municipality, each a
 * condition on one kind's readings with a duration it must hold, validated by zod so a wrong rule
 * file fails with one line naming the rule and the field. A municipality without rules of its own
 * gets the defaults; one with its own rules has a default replaced by a rule of the same `id`, or
 * switched off with `"enabled": false`.
 */
import { z } from 'zod';
import { parseJsonText } from '../../shared/json-text.ts';
import { identSchema } from '../../shared/schemas/topics.ts';

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

const minutes = (def: number, max = 7 * 24 * 60) => z.number().min(0).max(max).default(def);
/** Registry attributes a device must have for the rule to apply (e.g. `{"buildingType": "street-lighting"}`). */
const where = z.record(z.string(), z.union([z.string(), z.number()])).default({});

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes'),
  severity: z.enum(SEVERITIES).default('major'),
  enabled: z.boolean().default(true),
  where,
};

/** A field above or below a value for a while: power above X W for 10 min, fuel under 10 %. */
const threshold = z
  .object({
    ...common,
    type: z.literal('threshold'),
    kind: z.enum(['energy', 'fleet']),
    field: z.enum(['power_w', 'voltage_v', 'speed_kmh', 'fuel_pct']),
    above: z.number().optional(),
    below: z.number().optional(),
    forMinutes: minutes(10),
  })
  .refine((r) => (r.above === undefined) !== (r.below === undefined), { message: 'exactly one of above and below', path: ['above'] })
  .refine((r) => (r.kind === 'energy') === (r.field === 'power_w' || r.field === 'voltage_v'), { message: 'not a field of this kind', path: ['field'] });

/** A circuit drawing power in daylight, by Athens local time (street lighting at noon). */
const daylightDraw = z.object({
  ...common,
  type: z.literal('daylight-draw'),
  kind: z.literal('energy'),
  minPowerW: z.number().min(0).default(1000),
  /** Athens local hours [from, to) counted as daylight all year. */
  fromHour: z.number().int().min(0).max(23).default(10),
  toHour: z.number().int().min(1).max(24).default(16),
  forMinutes: minutes(15),
});

/** No reading for a while — decided by the platform's clock (the gateway's receive time and the stage's wall clock), never the device's. */
const silence = z.object({ ...common, type: z.literal('silence'), kind: z.enum(['energy', 'fleet', 'parking']), minutes: z.number().min(0.05).max(7 * 24 * 60).default(30) });

/** Ignition on and standing still longer than this. */
const idling = z.object({ ...common, type: z.literal('idling'), kind: z.literal('fleet'), maxSpeedKmh: z.number().min(0).default(1), forMinutes: minutes(40) });

/** A vehicle outside the municipality's area (a polygon of [lon, lat] corners). */
const geofence = z.object({
  ...common,
  type: z.literal('geofence'),
  kind: z.literal('fleet'),
  polygon: z.array(z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)])).min(3).max(1000),
  forMinutes: minutes(0),
});

/**
 * A parking zone (the bays of one `lot`) fuller than this for a while: the share of its sensed bays
 * occupied, as the KPIs' `occupancy_pct` counts it, judged once at least `minBays` of them have
 * reported (two bays both taken say nothing of a car park).
 */
const occupancy = z.object({
  ...common,
  type: z.literal('occupancy'),
  kind: z.literal('parking'),
  abovePct: z.number().min(0).max(100).default(95),
  minBays: z.number().int().min(1).max(100_000).default(10),
  forMinutes: minutes(30),
});

export const alarmRuleSchema = z.discriminatedUnion('type', [threshold, daylightDraw, silence, idling, geofence, occupancy]);
export type AlarmRule = z.infer<typeof alarmRuleSchema>;
export type RuleType = AlarmRule['type'];

export const alarmRulesFileSchema = z.object({
  /** Rules every municipality has unless it says otherwise. */
  defaults: z.array(alarmRuleSchema).default([]),
  municipalities: z.record(identSchema, z.array(alarmRuleSchema)).default({}),
});
export type AlarmRulesFile = z.infer<typeof alarmRulesFileSchema>;

/** The rules that hold without a file: what a municipality would switch on first. */
export const DEFAULT_RULES: AlarmRulesFile = alarmRulesFileSchema.parse({
  defaults: [
    { id: 'meter-silent', type: 'silence', kind: 'energy', minutes: 30, severity: 'major' },
    { id: 'vehicle-silent', type: 'silence', kind: 'fleet', minutes: 30, severity: 'minor' },
    { id: 'bay-sensor-silent', type: 'silence', kind: 'parking', minutes: 120, severity: 'warning' },
    // Above what any of the municipalities' buildings draws at full load (a town hall peaks near 60 kW).
    { id: 'power-high', type: 'threshold', kind: 'energy', field: 'power_w', above: 80_000, forMinutes: 10, severity: 'major' },
    // A circuit's controller and standby draw a few hundred watts by day; its lamps draw kilowatts.
    { id: 'lighting-in-daylight', type: 'daylight-draw', kind: 'energy', where: { buildingType: 'street-lighting' }, minPowerW: 1000, forMinutes: 15, severity: 'minor' },
    { id: 'fuel-low', type: 'threshold', kind: 'fleet', field: 'fuel_pct', below: 10, forMinutes: 0, severity: 'warning' },
    { id: 'idling', type: 'idling', kind: 'fleet', forMinutes: 40, severity: 'minor' },
    { id: 'car-park-full', type: 'occupancy', kind: 'parking', abovePct: 95, minBays: 10, forMinutes: 30, severity: 'warning' },
  ],
});

export type RulesResult = { ok: true; rules: AlarmRulesFile } | { ok: false; error: string };

/** A rules file's JSON text → the rules, or one line naming the rule and field that is wrong. */
export function parseRules(text: string): RulesResult {
  const r = parseJsonText(text, alarmRulesFileSchema, describePath);
  if (!r.ok) return { ok: false, error: `alarm rules: ${r.error}` };
  const rules = r.value;
  for (const [where, list] of [['defaults', rules.defaults], ...Object.entries(rules.municipalities)] as const) {
    const ids = list.map((x) => x.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice) return { ok: false, error: `alarm rules: ${where}: rule id '${twice}' is used twice` };
  }
  return { ok: true, rules };
}

/** `municipalities.kalamata[2] (rule 'power-high').above` — the rule named by its id when it has one. */
function describePath(json: unknown, path: readonly PropertyKey[]): string {
  let node: unknown = json;
  let out = '';
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
    node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    const id = node && typeof node === 'object' && !Array.isArray(node) ? (node as { id?: unknown }).id : undefined;
    if (typeof key === 'number' && typeof id === 'string') out += ` (rule '${id}')`;
  }
  return out || '(file)';
}

/** A municipality's rules in force: the defaults, each replaced by its own rule of the same id, plus its own; those switched off left out. */
export function rulesFor(file: AlarmRulesFile, municipality: string): AlarmRule[] {
  const own = file.municipalities[municipality] ?? [];
  const ownIds = new Set(own.map((r) => r.id));
  return [...file.defaults.filter((r) => !ownIds.has(r.id)), ...own].filter((r) => r.enabled);
}

/** Whether the rule applies to a device with these registry attributes. */
export const appliesTo = (rule: AlarmRule, attrs: Readonly<Record<string, string | number>>): boolean => Object.entries(rule.where).every(([k, v]) => attrs[k] === v);
