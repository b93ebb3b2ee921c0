/**
 * SenML (RFC 8428) JSON → native readings. Base fields (bn, bt, bu, bv) are resolved per the RFC,
 * records are grouped by time into one reading each, and names/units are mapped to the native
 * field in its canonical unit (Wh, W, V, degrees, km/h, %).
 */
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';

export type SenmlResult = { ok: true; deviceId: string | undefined; readings: Record<string, unknown>[] } | { ok: false; rejection: Rejection };

const invalid = (field: string, reason: string): SenmlResult => ({ ok: false, rejection: { code: REJECT.SENML_INVALID, field, reason: `payload: ${reason}` } });

type Conversion = { field: string; units: Record<string, (v: number) => number> };

const id = (v: number) => v;
// Maps, not object literals: a record named `constructor` or `__proto__` must not find Object's own members.
const FIELDS = new Map<string, Conversion>(Object.entries<Conversion>({
  energy: { field: 'energy_wh', units: { Wh: id, kWh: (v) => v * 1000, J: (v) => v / 3600 } },
  power: { field: 'power_w', units: { W: id, kW: (v) => v * 1000 } },
  voltage: { field: 'voltage_v', units: { V: id } },
  lat: { field: 'lat', units: { lat: id, deg: id } },
  lon: { field: 'lon', units: { lon: id, deg: id } },
  speed: { field: 'speed_kmh', units: { 'km/h': id, 'm/s': (v) => v * 3.6 } },
  heading: { field: 'heading_deg', units: { deg: id, rad: (v) => (v * 180) / Math.PI } },
  fuel: { field: 'fuel_pct', units: { '%': id, '/': (v) => v * 100 } },
}));
const BOOLEANS = new Set(['ignition', 'occupied']);

/** RFC 8428 §4.5.3: times below 2^28 are relative to now. */
const RELATIVE_LIMIT = 2 ** 28;

export const looksLikeSenml = (body: unknown): body is Record<string, unknown>[] =>
  Array.isArray(body) &&
  body.length > 0 &&
  body.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r)) &&
  ['n', 'bn', 'bt', 'v', 'vb', 'vs'].some((k) => k in (body[0] as object));

export function senmlToReadings(records: Record<string, unknown>[], receivedAtMs: number): SenmlResult {
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  const byTime = new Map<number, Record<string, unknown>>();
  let deviceId: string | undefined;
  for (const [i, r] of records.entries()) {
    if (typeof r.bn === 'string') bn = r.bn;
    if (typeof r.bt === 'number') bt = r.bt;
    if (typeof r.bu === 'string') bu = r.bu;
    if (typeof r.bv === 'number') bv = r.bv;
    const name = bn + (typeof r.n === 'string' ? r.n : '');
    if (!name) return invalid(`senml[${i}].n`, `senml[${i}]: record has no name (n/bn)`);
    const m = /^urn:dev:id:([a-z0-9-]+):(.*)$/.exec(name);
    if (m) deviceId ??= m[1];
    if (m && m[1] !== deviceId) return invalid(`senml[${i}].bn`, `senml[${i}]: names two devices (${deviceId}, ${m[1]})`);
    const token = (m ? m[2]! : name).split(/[:/]/).pop()!;
    let t = bt + (typeof r.t === 'number' ? r.t : 0);
    if (Math.abs(t) < RELATIVE_LIMIT) t += receivedAtMs / 1000;
    const tsMs = Math.round(t * 1000);
    const reading = byTime.get(tsMs) ?? { ts: tsMs };
    byTime.set(tsMs, reading);
    if (BOOLEANS.has(token)) {
      if (typeof r.vb !== 'boolean') return invalid(`senml[${i}].vb`, `senml[${i}] ${token}: expected a boolean value (vb)`);
      reading[token] = r.vb;
      continue;
    }
    const conv = FIELDS.get(token);
    if (!conv) continue; // names outside the contract are ignored, like unknown native fields
    if (typeof r.v !== 'number') return invalid(`senml[${i}].v`, `senml[${i}] ${token}: expected a numeric value (v)`);
    const unit = typeof r.u === 'string' ? r.u : bu;
    const convert = unit === undefined ? id : Object.hasOwn(conv.units, unit) ? conv.units[unit] : undefined;
    if (!convert) return invalid(`senml[${i}].u`, `senml[${i}] ${token}: unit '${String(unit).slice(0, 20)}' is not supported (${Object.keys(conv.units).join(', ')})`);
    reading[conv.field] = convert(r.v + bv);
  }
  return { ok: true, deviceId, readings: [...byTime.values()] };
}
