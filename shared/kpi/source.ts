/**
 * What the KPI maths reads, as an interface: InfluxDB implements it in production, the embedded
 * store on one machine. Both return the aggregator's window rows as they were written, so the KPI
 * numbers come from one pure implementation whichever store holds the data.
 */
import type { AggregateMeasurement } from '../schemas/kinds.ts';

export type { AggregateMeasurement };
export { WINDOW_MS } from '../schemas/kinds.ts';

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
