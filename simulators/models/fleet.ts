/**
 * GPS tracker of a municipal vehicle (refuse truck, bus, service van) driving a loop through its
 * town: cruise, stops with idling (bins, bus stops), a depot break with ignition off, GPS jitter.
 */
import { bearingDeg, haversineKm } from '../../shared/geo.ts';
import type { Rng } from '../rng.ts';

export const VEHICLE_TYPES = ['refuse-truck', 'bus', 'service-van'] as const;
export type VehicleType = (typeof VEHICLE_TYPES)[number];

const PROFILE: Record<VehicleType, { cruiseKmh: number; stopEveryKm: number; stopSec: [number, number] }> = {
  'refuse-truck': { cruiseKmh: 22, stopEveryKm: 0.25, stopSec: [20, 90] },
  bus: { cruiseKmh: 32, stopEveryKm: 0.6, stopSec: [15, 45] },
  'service-van': { cruiseKmh: 42, stopEveryKm: 2, stopSec: [60, 600] },
};

export interface FleetReading {
  lat: number;
  lon: number;
  speed_kmh: number;
  heading_deg: number;
  ignition: boolean;
  fuel_pct: number;
}

export class Vehicle {
  private leg = 0;
  private posKm = 0; // along the current leg
  private stopLeftSec = 0;
  private ignition = true;
  private nextStopKm: number;
  private fuel: number;
  private lastTs: number | undefined;
  private heading = 0;

  readonly type: VehicleType;
  private readonly route: [number, number][];
  private readonly rng: Rng;

  constructor(type: VehicleType, route: [number, number][], rng: Rng) {
    this.type = type;
    this.route = route;
    this.rng = rng;
    this.leg = rng.int(0, route.length - 1);
    this.fuel = rng.between(40, 100);
    this.nextStopKm = PROFILE[type].stopEveryKm * rng.between(0.5, 1.5);
  }

  next(tsMs: number): FleetReading {
    const p = PROFILE[this.type];
    const dtSec = this.lastTs === undefined ? 0 : Math.max(0, (tsMs - this.lastTs) / 1000);
    this.lastTs = tsMs;
    let speed = 0;
    if (this.stopLeftSec > 0) {
      this.stopLeftSec -= dtSec;
      // A long stop is a break at the depot: engine off.
      if (this.stopLeftSec <= 0) this.ignition = true;
    } else {
      speed = Math.max(5, this.rng.normal(p.cruiseKmh, p.cruiseKmh * 0.15));
      let km = (speed * dtSec) / 3600;
      this.nextStopKm -= km;
      while (km > 0) {
        const [a, b] = this.legEnds();
        const legKm = haversineKm(a, b);
        const step = Math.min(km, legKm - this.posKm);
        this.posKm += step;
        km -= step;
        this.heading = bearingDeg(a, b);
        if (this.posKm >= legKm - 1e-9) {
          this.leg = (this.leg + 1) % this.route.length;
          this.posKm = 0;
        }
      }
      if (this.nextStopKm <= 0) {
        const depotBreak = this.rng.chance(0.03);
        this.stopLeftSec = depotBreak ? this.rng.between(600, 1800) : this.rng.between(p.stopSec[0], p.stopSec[1]);
        this.ignition = !depotBreak;
        this.nextStopKm = p.stopEveryKm * this.rng.between(0.5, 1.5);
      }
    }
    if (this.ignition) this.fuel = Math.max(5, this.fuel - dtSec * (speed > 0 ? 0.0015 : 0.0004));
    if (this.fuel <= 10) this.fuel = 100; // refuelled at the depot
    const [a, b] = this.legEnds();
    const f = this.posKm / Math.max(haversineKm(a, b), 1e-9);
    const jitter = () => this.rng.normal(0, 0.00002); // ≈ 2 m of GPS noise
    return {
      lat: Math.round((a[0] + (b[0] - a[0]) * f + jitter()) * 1e6) / 1e6,
      lon: Math.round((a[1] + (b[1] - a[1]) * f + jitter()) * 1e6) / 1e6,
      speed_kmh: Math.round(speed * 10) / 10,
      heading_deg: Math.round(this.heading),
      ignition: this.ignition,
      fuel_pct: Math.round(this.fuel * 10) / 10,
    };
  }

  private legEnds(): [[number, number], [number, number]] {
    return [this.route[this.leg]!, this.route[(this.leg + 1) % this.route.length]!];
  }
}
