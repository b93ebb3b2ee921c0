/** Encodes a device's readings as the native JSON of the payload contract (docs/architecture.md) or as SenML (RFC 8428). */
import type { Kind } from '#shared/schemas/topics.ts';

export type Format = 'native' | 'senml';
export type Reading = Record<string, number | boolean>;

/** SenML name and unit of each native field (what the normaliser maps back). */
const SENML: Record<string, { n: string; u?: string }> = {
  energy_wh: { n: 'energy', u: 'Wh' },
  power_w: { n: 'power', u: 'W' },
  voltage_v: { n: 'voltage', u: 'V' },
  lat: { n: 'lat', u: 'lat' },
  lon: { n: 'lon', u: 'lon' },
  speed_kmh: { n: 'speed', u: 'km/h' },
  heading_deg: { n: 'heading', u: 'deg' },
  fuel_pct: { n: 'fuel', u: '%' },
  ignition: { n: 'ignition' },
  occupied: { n: 'occupied' },
};

export function encode(format: Format, deviceId: string, _kind: Kind, readings: { ts: number; reading: Reading }[]): string {
  if (format === 'native') {
    const objs = readings.map(({ ts, reading }) => ({ ts, ...reading }));
    return JSON.stringify(objs.length === 1 ? objs[0] : objs);
  }
  const records: Record<string, unknown>[] = [];
  readings.forEach(({ ts, reading }, i) => {
    Object.entries(reading).forEach(([field, value], j) => {
      const meta = SENML[field] ?? { n: field };
      const rec: Record<string, unknown> = { n: meta.n };
      if (i === 0 && j === 0) rec.bn = `urn:dev:id:${deviceId}:`;
      rec.t = ts / 1000; // SenML times are seconds
      if (meta.u) rec.u = meta.u;
      if (typeof value === 'boolean') rec.vb = value;
      else rec.v = value;
      records.push(rec);
    });
  });
  return JSON.stringify(records);
}
