/**
 * InfluxDB's own settings: where it is, the token, the organisation and buckets. They belong to the
 * InfluxDB adapter, not to the stages: `openStore` (shared/engines.ts) reads them when the store
 * is InfluxDB.
 */
import { z } from 'zod';
import { bool } from '../config.ts';

export const influxEnv = {
  INFLUX_URL: z.url().default('http://127.0.0.1:8086').describe("InfluxDB's URL (the v2 HTTP API)"),
  INFLUX_TOKEN: z.string().default('').describe("API token: in production the service's own least-privilege token (npm run influx-access), or INFLUX_TOKEN_FILE; empty only for InfluxDB 1.8 with auth off; never logged"),
  INFLUX_ORG: z.string().default('smartcity').describe('organisation'),
  INFLUX_BUCKET: z.string().min(1).default('telemetry').describe('bucket of the raw readings (InfluxDB 1.8: database/retention-policy, e.g. telemetry/autogen)'),
  INFLUX_AGG_BUCKET: z.string().default('').describe('bucket of the aggregates (energy_15m, fleet_1h, parking_15m), so raw readings can expire long before them; empty = INFLUX_BUCKET'),
  INFLUX_WRITE_GZIP: bool(false).describe('gzip the write requests: worth it only across a slow link (next to InfluxDB, compressing costs the writer and InfluxDB CPU for bandwidth nobody is short of)'),
};
