/**
 * The telemetry store embedded in SQLite, for one machine. One table of points keyed like
 * InfluxDB's (measurement, series = sorted tag set, timestamp; the layout in `store-schema.ts`);
 * a rewrite merges fields as InfluxDB does, so replays stay idempotent. Tags and fields are
 * JSON; the KPI queries select by measurement, municipality and time through indexes. Writes are committed by a thread of their
 * own (`store-writer-thread.ts`), so their fsync does not stop the process's event loop.
 */
import type { EdgeFigures } from '../edge/view.ts';
import { RAW_MEASUREMENTS } from '../schemas/kinds.ts';
import type { Kind } from '../schemas/topics.ts';
import type { AggregateMeasurement, DeviceLastSeen, TimeRange, WindowRow } from '../kpi/source.ts';
import type { StorePoint, TelemetryStore } from '../store/store.ts';
import { ALARM_MEASUREMENT, type AlarmQuery } from '../store/alarms.ts';
import { openDatabase, sqliteCode, type Db } from './sqlite.ts';
import { ensureStoreSchema } from './store-schema.ts';
import type { storeWriterCalls } from './store-writer-thread.ts';
import { ThreadCalls } from '../thread-calls.ts';


interface PointRow {
  ts: number;
  municipality: string;
  device: string;
  tags: string;
  fields: string;
}

export class SqliteStore implements TelemetryStore {
  readonly kind = 'embedded';
  private readonly db: Db;
  /** Started at the first write: a store opened only to read (the KPI CLI) starts no thread. */
  private readonly writer: ThreadCalls<typeof storeWriterCalls>;

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.db = openDatabase(path);
    ensureStoreSchema(this.db);
    this.writer = new ThreadCalls({ script: new URL('./store-writer-thread.ts', import.meta.url), workerData: { path } });
  }

  async write(points: StorePoint[]): Promise<void> {
    if (points.length > 0) await this.writer.call('write', points);
  }

  isRefusal(err: unknown): boolean {
    // Refusals of the row itself; SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY are the disk's and retried.
    const code = sqliteCode(err) ?? '';
    return /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH)/.test(code) || err instanceof TypeError || err instanceof RangeError;
  }

  async previousCarries(measurement: string, before: number, devices: string[], lookbackMs: number): Promise<Map<string, string>> {
    const stmt = this.db.prepare<[string, string, number, number], { carry: string | null }>(
      `SELECT json_extract(fields, '$.carry') AS carry FROM points
       WHERE measurement = ? AND device = ? AND ts < ? AND ts >= ? AND json_extract(fields, '$.carry') IS NOT NULL
       ORDER BY ts DESC LIMIT 1`,
    );
    const out = new Map<string, string>();
    for (const d of devices) {
      const row = stmt.get(measurement, d, before, before - lookbackMs);
      if (row?.carry) out.set(d, row.carry);
    }
    return out;
  }

  async windows(measurement: AggregateMeasurement, q: TimeRange & { municipality?: string }): Promise<WindowRow[]> {
    const rows =
      q.municipality === undefined
        ? this.db.prepare<[string, number, number], PointRow>('SELECT ts, municipality, device, tags, fields FROM points WHERE measurement = ? AND ts >= ? AND ts < ? ORDER BY ts').all(measurement, q.from, q.to)
        : this.db.prepare<[string, string, number, number], PointRow>('SELECT ts, municipality, device, tags, fields FROM points WHERE measurement = ? AND municipality = ? AND ts >= ? AND ts < ? ORDER BY ts').all(measurement, q.municipality, q.from, q.to);
    return rows.map((r) => {
      const { municipality: _m, device: _d, ...tags } = JSON.parse(r.tags) as Record<string, string>;
      const fields: Record<string, number> = {};
      for (const [k, v] of Object.entries(JSON.parse(r.fields) as Record<string, unknown>)) if (typeof v === 'number') fields[k] = v;
      return { start: r.ts, municipality: r.municipality, device: r.device, tags, fields };
    });
  }

  /** No edges on one machine: town edges reach the centre through Kafka, never the embedded log. */
  async edgeFigures(): Promise<EdgeFigures[]> {
    return [];
  }

  async lastSeen(q: { municipality?: string; since: number }): Promise<DeviceLastSeen[]> {
    const out: DeviceLastSeen[] = [];
    for (const kind of RAW_MEASUREMENTS) {
      const rows =
        q.municipality === undefined
          ? this.db.prepare<[string, number], { municipality: string; device: string; last: number }>('SELECT municipality, device, MAX(ts) AS last FROM points WHERE measurement = ? AND ts >= ? GROUP BY municipality, device').all(kind, q.since)
          : this.db.prepare<[string, string, number], { municipality: string; device: string; last: number }>('SELECT municipality, device, MAX(ts) AS last FROM points WHERE measurement = ? AND municipality = ? AND ts >= ? GROUP BY municipality, device').all(kind, q.municipality, q.since);
      for (const r of rows) out.push({ municipality: r.municipality, device: r.device, kind, lastSeen: r.last });
    }
    return out;
  }

  async devicePoints(measurement: string, device: string, from: number, to: number): Promise<StorePoint[]> {
    return this.db
      .prepare<[string, string, number, number], { ts: number; tags: string; fields: string }>('SELECT ts, tags, fields FROM points WHERE measurement = ? AND device = ? AND ts >= ? AND ts < ? ORDER BY ts')
      .all(measurement, device, from, to)
      .map((r) => ({ measurement, ts: r.ts, tags: JSON.parse(r.tags) as Record<string, string>, fields: JSON.parse(r.fields) as StorePoint['fields'] }));
  }

  async alarmPoints(q: AlarmQuery): Promise<StorePoint[]> {
    const where = ['measurement = ?', 'ts >= ?', 'ts < ?', ...(q.municipality === undefined ? [] : ['municipality = ?']), ...(q.subject === undefined ? [] : ['device = ?'])].join(' AND ');
    const args = [ALARM_MEASUREMENT, q.from, q.to, ...(q.municipality === undefined ? [] : [q.municipality]), ...(q.subject === undefined ? [] : [q.subject])];
    return this.db
      .prepare<(string | number)[], { ts: number; tags: string; fields: string }>(`SELECT ts, tags, fields FROM points WHERE ${where} ORDER BY ts`)
      .all(...args)
      .map((r) => ({ measurement: ALARM_MEASUREMENT, ts: r.ts, tags: JSON.parse(r.tags) as Record<string, string>, fields: JSON.parse(r.fields) as StorePoint['fields'] }));
  }

  /** Every point of a measurement (for tests and exports). */
  points(measurement: string): StorePoint[] {
    return this.db
      .prepare<[string], { ts: number; tags: string; fields: string }>('SELECT ts, tags, fields FROM points WHERE measurement = ? ORDER BY ts')
      .all(measurement)
      .map((r) => ({ measurement, ts: r.ts, tags: JSON.parse(r.tags) as Record<string, string>, fields: JSON.parse(r.fields) as StorePoint['fields'] }));
  }

  /** Retention: deletes the measurements' points older than `before`; returns how many went. */
  async deleteRaw(kind: Kind, before: number, municipality?: string): Promise<void> {
    if (municipality === undefined) this.db.prepare('DELETE FROM points WHERE measurement = ? AND ts < ?').run(kind, before);
    else this.db.prepare('DELETE FROM points WHERE measurement = ? AND municipality = ? AND ts < ?').run(kind, municipality, before);
  }

  async deleteDevice(device: string): Promise<void> {
    this.db.prepare('DELETE FROM points WHERE device = ?').run(device);
  }

  deleteBefore(measurements: string[], before: number): number {
    const del = this.db.prepare('DELETE FROM points WHERE measurement = ? AND ts < ?');
    return this.db.transaction(() => measurements.reduce((n, m) => n + del.run(m, before).changes, 0))();
  }

  /** Points per measurement (for the status line and tests). */
  count(measurement: string): number {
    return this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM points WHERE measurement = ?').get(measurement)?.n ?? 0;
  }

  async healthy(): Promise<boolean> {
    return this.db.open;
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.db.open) this.db.close();
  }
}
