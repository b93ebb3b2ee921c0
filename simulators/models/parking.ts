/** A parking-bay sensor: arrivals follow the time of day, stays last tens of minutes. */
import type { Rng } from '../rng.ts';

/** Arrivals per hour at a free bay, by local hour (Europe/Athens ≈ UTC+2). */
export function arrivalRate(tsMs: number): number {
  const hour = new Date(tsMs + 2 * 3600_000).getUTCHours();
  if (hour < 7) return 0.1;
  if (hour < 9) return 1.2;
  if (hour < 14) return 2.5;
  if (hour < 17) return 1.2;
  if (hour < 21) return 2;
  return 0.4;
}

export interface ParkingReading {
  occupied: boolean;
}

export class ParkingBay {
  private occupied: boolean;
  private leaveAt = 0;
  private lastTs: number | undefined;

  private readonly rng: Rng;
  private readonly meanStayMin: number;

  constructor(rng: Rng, meanStayMin = 45) {
    this.rng = rng;
    this.meanStayMin = meanStayMin;
    this.occupied = rng.chance(0.4);
  }

  next(tsMs: number): ParkingReading {
    const dtH = this.lastTs === undefined ? 0 : Math.max(0, (tsMs - this.lastTs) / 3_600_000);
    this.lastTs = tsMs;
    if (this.occupied && tsMs >= this.leaveAt) this.occupied = false;
    else if (!this.occupied && this.rng.chance(1 - Math.exp(-arrivalRate(tsMs) * dtH))) {
      this.occupied = true;
      this.leaveAt = tsMs - Math.log(1 - this.rng.next()) * this.meanStayMin * 60_000;
    }
    if (this.occupied && this.leaveAt === 0) this.leaveAt = tsMs + this.rng.between(5, 90) * 60_000;
    return { occupied: this.occupied };
  }
}
