/**
 * The KPI use cases: read the windows a question needs from the source, hand them to the pure
 * KPI maths. Shared by the HTTP API and the `npm run kpi` CLI so both give the same numbers.
 */
import { energyConsumption, energySavings, type EnergyGrouping } from '../../shared/kpi/energy.ts';
import { deviceHealth, type KnownDevice } from '../../shared/kpi/health.ts';
import { fleetKpis, parkingKpis } from '../../shared/kpi/mobility.ts';
import type { Interval } from '../../shared/kpi/periods.ts';
import type { KpiSource, TimeRange } from '../../shared/kpi/source.ts';
import { alarmOf, type AlarmRecord, type AlarmSource } from '../../shared/store/alarms.ts';
import { ERROR_CODES } from '../../shared/errors.ts';

export interface Scope extends TimeRange {
  /** undefined = every municipality (admin keys only). */
  municipality?: string;
}

/**
 * The store failed to answer (down, or refusing this service's token): a 503 for the API's
 * client, whatever status the store itself answered with — its 401 is not the client's.
 */
export class KpiSourceUnavailable extends Error {
  override name = 'KpiSourceUnavailable';
  readonly code = ERROR_CODES.KPI_SOURCE_UNAVAILABLE;
  readonly statusCode = 503;
}

/** The source, with its failures reported as KpiSourceUnavailable (the cause kept for the log). */
function unavailableOnError(source: KpiSource & AlarmSource): KpiSource & AlarmSource {
  const wrap = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      return await f(...a);
    } catch (err) {
      throw new KpiSourceUnavailable(`KPI store: ${(err as Error).message}`, { cause: err });
    }
  };
  return { windows: wrap(source.windows.bind(source)), lastSeen: wrap(source.lastSeen.bind(source)), alarmPoints: wrap(source.alarmPoints.bind(source)) };
}

export class Kpis {
  private readonly source: KpiSource & AlarmSource;
  /** Registered devices, so that devices that never reported show up as silent. */
  private readonly knownDevices: () => KnownDevice[];

  constructor(source: KpiSource & AlarmSource, knownDevices: () => KnownDevice[]) {
    this.source = unavailableOnError(source);
    this.knownDevices = knownDevices;
  }

  async energy(q: Scope & { interval: Interval; by: EnergyGrouping }) {
    return energyConsumption(await this.source.windows('energy_15m', q), q.by, q.interval);
  }

  async savings(q: Scope & { baseline: TimeRange; by: EnergyGrouping }) {
    const [current, baseline] = await Promise.all([
      this.source.windows('energy_15m', q),
      this.source.windows('energy_15m', { ...q.baseline, municipality: q.municipality }),
    ]);
    return energySavings(current, q, baseline, q.baseline, q.by);
  }

  async fleet(q: Scope) {
    return fleetKpis(await this.source.windows('fleet_1h', q), q);
  }

  async parking(q: Scope) {
    return parkingKpis(await this.source.windows('parking_15m', q), q);
  }

  /** A municipality's alarms raised in the range (by severity and kind when given), the newest first. */
  async alarms(q: Scope & { severity?: string; kind?: string }): Promise<AlarmRecord[]> {
    const all = (await this.source.alarmPoints(q)).map(alarmOf).filter((a): a is AlarmRecord => a !== undefined && a.municipality === q.municipality);
    return all.filter((a) => (q.severity === undefined || a.severity === q.severity) && (q.kind === undefined || a.kind === q.kind)).sort((a, b) => b.raisedAt - a.raisedAt);
  }

  async health(q: { municipality?: string; now: number; silentAfterMs: number; lookbackMs: number }) {
    const seen = await this.source.lastSeen({ municipality: q.municipality, since: q.now - q.lookbackMs });
    const known = this.knownDevices().filter((d) => q.municipality === undefined || d.municipality === q.municipality);
    return deviceHealth(known, seen, q.now, q.silentAfterMs);
  }
}
