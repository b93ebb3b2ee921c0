/**
 * What the KPI maths reads, as an interface: InfluxDB implements it in production, the embedded
 * store on one machine. Both return the aggregator's window rows as they were written, so the KPI
 * numbers come from one pure implementation whichever store holds the data.
 */
export type AggregateMeasurement = 'energy_15m' | 'fleet_1h' | 'parking_15m';

/** Window length of each aggregate measurement (the aggregator's windows). */
export const WINDOW_MS: Record<AggregateMeasurement, number> = {
  energy_15m: 15 * 60_000,
  fleet_1h: 60 * 60_000,
  parking_15m: 15 * 60_000,
};

/** One device's window: tags as written (district, building, lot, vehicleType…), numeric fields. */
export interface WindowRow {
  /** Window start, epoch ms. */
  start: number;
  municipality: string;
  device: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
}

export interface DeviceLastSeen {
  municipality: string;
  device: string;
  kind: string;
  /** Timestamp of the device's newest stored reading, epoch ms. */
  lastSeen: number;
}

export interface TimeRange {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

export interface KpiSource {
  /** Windows whose start lies in [from, to), of one municipality or (undefined) all. */
  windows(measurement: AggregateMeasurement, q: TimeRange & { municipality?: string }): Promise<WindowRow[]>;
  /** Each device's newest reading at or after `since`, of one municipality or all. */
  lastSeen(q: { municipality?: string; since: number }): Promise<DeviceLastSeen[]>;
}
