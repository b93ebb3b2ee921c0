/**
 * A closed window → its aggregate fields, by kind, using the window maths. Pure: the carry of the
 * device's previous window goes in, the next carry comes out.
 */
import { located, type EnergyReading, type FleetReading, type ParkingReading } from '../../shared/schemas/readings.ts';
import type { OpenWindow } from './windows.ts';
import { energyWindow, fleetWindow, parkingWindow, type EnergyCarry, type FleetCarry, type FleetRules, type ParkingCarry } from './window-math.ts';

/** What a window hands to the next one of the same device (stored with the aggregate as JSON). */
export type Carry = EnergyCarry | FleetCarry | ParkingCarry;

export interface WindowResult {
  fields: Record<string, number>;
  carry: Carry;
}

export function aggregateWindow(w: OpenWindow, carry: Carry | undefined, rules: FleetRules): WindowResult {
  const readings = w.readings;
  switch (w.kind) {
    case 'energy': {
      const pts = (readings as Pick<EnergyReading, 'ts' | 'values'>[]).map((r) => ({ ts: r.ts, energy_wh: r.values.energy_wh, power_w: r.values.power_w }));
      const { agg, carry: next } = energyWindow(carry as EnergyCarry | undefined, pts);
      return { fields: { ...agg }, carry: next };
    }
    case 'fleet': {
      const pts = (readings as Pick<FleetReading, 'ts' | 'values'>[]).map((r) => ({ ts: r.ts, ...(located(r.values) ? { lat: r.values.lat, lon: r.values.lon } : {}), speed_kmh: r.values.speed_kmh, ignition: r.values.ignition }));
      const { agg, carry: next } = fleetWindow(carry as FleetCarry | undefined, pts, rules);
      return { fields: { ...agg }, carry: next };
    }
    case 'parking': {
      const pts = (readings as Pick<ParkingReading, 'ts' | 'values'>[]).map((r) => ({ ts: r.ts, occupied: r.values.occupied }));
      const { agg, carry: next } = parkingWindow(carry as ParkingCarry | undefined, pts, w.start, w.end);
      const fields: Record<string, number> = { ...agg };
      if (typeof w.attrs.capacity === 'number') fields.capacity = w.attrs.capacity;
      return { fields, carry: next };
    }
  }
}
