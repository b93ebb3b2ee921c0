/**
 * InfluxDB access through @influxdata/influxdb-client (the v2 HTTP API; InfluxDB 1.8 serves it
 * too). Writes go out as one request per call with no client-side buffering or retries, so the
 * caller knows exactly what was accepted and can retry or commit accordingly.
 */
import { InfluxDB, setLogger, type QueryApi } from '@influxdata/influxdb-client';
import { DeleteAPI } from '@influxdata/influxdb-client-apis';

// The client logs failed writes to the console itself; callers log them (with context) instead.
setLogger({ error: () => undefined, warn: () => undefined });

export interface InfluxSettings {
  INFLUX_URL: string;
  INFLUX_TOKEN: string;
  INFLUX_ORG: string;
  INFLUX_BUCKET: string;
  INFLUX_WRITE_GZIP?: boolean;
}

export class InfluxStore {
  private readonly influx: InfluxDB;

  private readonly s: InfluxSettings;

  constructor(s: InfluxSettings) {
    this.s = s;
    this.influx = new InfluxDB({ url: s.INFLUX_URL, token: s.INFLUX_TOKEN, timeout: 30_000 });
  }

  get bucket(): string {
    return this.s.INFLUX_BUCKET;
  }

  /** Writes lines of line protocol (ms timestamps) in one request; resolves once InfluxDB accepted them (HTTP 204). */
  async write(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const api = this.influx.getWriteApi(this.s.INFLUX_ORG, this.s.INFLUX_BUCKET, 'ms', {
      batchSize: lines.length + 1,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: lines.length + 1,
      writeFailed: () => undefined, // the caller retries; stop the client from logging to the console
      // The client gzips bodies over 1,000 bytes by default: in its thread pool, a tenth of the
      // writer's CPU with 10-reading messages (on-CPU profile), and InfluxDB's to inflate them.
      gzipThreshold: this.s.INFLUX_WRITE_GZIP ? 1000 : Number.POSITIVE_INFINITY,
    });
    api.writeRecords(lines);
    await api.close();
  }

  /** Deletes the points of `[start, stop)` matching an InfluxDB delete predicate (2.x's delete API: the token needs write on the bucket). */
  async delete(start: number, stop: number, predicate: string): Promise<void> {
    await new DeleteAPI(this.influx).postDelete({ org: this.s.INFLUX_ORG, bucket: this.s.INFLUX_BUCKET, body: { start: new Date(start).toISOString(), stop: new Date(stop - 1).toISOString(), predicate } });
  }

  query(): QueryApi {
    return this.influx.getQueryApi(this.s.INFLUX_ORG);
  }

  async healthy(): Promise<boolean> {
    try {
      return (await fetch(new URL('/health', this.s.INFLUX_URL))).ok;
    } catch {
      return false;
    }
  }
}
