/**
 * Which devices a simulation runs: spread over the chosen municipalities and the three kinds, each
 * with the attributes the workers use for enrichment. Deterministic: ids and attributes depend only
 * on the index, models on the seed.
 */
import { KINDS, type DeviceAddress, type Kind } from '#shared/schemas/topics.ts';
import { MUNICIPALITIES, type Municipality } from './municipalities.ts';
import { BUILDING_TYPES, EnergyMeter } from './models/energy.ts';
import { VEHICLE_TYPES, Vehicle } from './models/fleet.ts';
import { ParkingBay } from './models/parking.ts';
import type { Rng } from './rng.ts';

export interface Model {
  next(tsMs: number): Record<string, number | boolean>;
}

export interface SimDevice extends DeviceAddress {
  attributes: Record<string, string | number>;
  model: Model;
}

export function planDevices(opts: { count: number; municipalities: string[]; rng: Rng; idPrefix?: string }): SimDevice[] {
  const munis = opts.municipalities.map((id) => {
    const m = MUNICIPALITIES.find((x) => x.id === id);
    if (!m) throw new Error(`unknown municipality '${id}' (known: ${MUNICIPALITIES.map((x) => x.id).join(', ')})`);
    return m;
  });
  return Array.from({ length: opts.count }, (_, i) => {
    const muni = munis[i % munis.length]!;
    const kind = KINDS[Math.floor(i / munis.length) % KINDS.length]!;
    const n = Math.floor(i / (munis.length * KINDS.length)) + 1;
    const deviceId = `${opts.idPrefix ?? ''}${muni.id}-${kind}-${String(n).padStart(3, '0')}`;
    return { municipality: muni.id, kind, deviceId, ...describe(kind, muni, n, opts.rng.fork(deviceId)) };
  });
}

function describe(kind: Kind, muni: Municipality, n: number, rng: Rng): { attributes: SimDevice['attributes']; model: Model } {
  const district = muni.districts[n % muni.districts.length]!;
  switch (kind) {
    case 'energy': {
      const buildingType = BUILDING_TYPES[n % BUILDING_TYPES.length]!;
      const attributes: SimDevice['attributes'] =
        buildingType === 'street-lighting'
          ? { buildingType, building: `${district}-lighting`, circuit: `circuit-${n}`, district }
          : { buildingType, building: `${buildingType}-${n}`, district };
      return { attributes, model: new EnergyMeter(buildingType, rng) as unknown as Model };
    }
    case 'fleet': {
      const vehicleType = VEHICLE_TYPES[n % VEHICLE_TYPES.length]!;
      return { attributes: { vehicleType, district }, model: new Vehicle(vehicleType, muni.route, rng) as unknown as Model };
    }
    case 'parking': {
      const lot = muni.lots[n % muni.lots.length]!;
      return { attributes: { lot: lot.id, district: lot.district, capacity: lot.capacity }, model: new ParkingBay(rng) as unknown as Model };
    }
  }
}
