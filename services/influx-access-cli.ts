/**
 * `npm run influx-access`: creates the aggregates bucket and the services' least-privilege tokens
 * on an InfluxDB 2.x that was set up with an operator token, and writes each token to
 * `INFLUX_TOKEN_DIR/<service>/token`. The compose stack mounts each service's own subdirectory
 * only (a volume subpath) and points INFLUX_TOKEN_FILE at it, so no service can read another's
 * token; the file is world-readable inside that mount because the containers' users differ
 * (Grafana's is not the services'). Idempotent. Prints what it did, never a token.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { int, loadConfig } from '#shared/config.ts';
import { influxEnv } from '#shared/influx/settings.ts';
import { DAY_S, provisionAccess } from '#shared/influx/access.ts';
import { AGG_STORE_DAYS, RAW_STORE_DAYS } from '#shared/privacy/retention.ts';
import { STORE_ACCESS, STORE_SERVICES } from './rights.ts';

const cfg = loadConfig({
  INFLUX_URL: influxEnv.INFLUX_URL,
  INFLUX_ORG: influxEnv.INFLUX_ORG,
  INFLUX_BUCKET: z.string().min(1).default('telemetry').describe('raw readings bucket'),
  INFLUX_AGG_BUCKET: z.string().min(1).default('telemetry_aggregates').describe('aggregates bucket'),
  INFLUX_OPERATOR_TOKEN: z.string().min(1).describe('the operator (set-up) token; or INFLUX_OPERATOR_TOKEN_FILE'),
  INFLUX_RAW_RETENTION_DAYS: int(RAW_STORE_DAYS, 1).describe('retention of the raw bucket, if this creates it'),
  INFLUX_AGG_RETENTION_DAYS: int(AGG_STORE_DAYS, 1).describe('retention of the aggregates bucket, if this creates it'),
  INFLUX_TOKEN_DIR: z.string().min(1).describe('directory the tokens are written to, one file per service'),
});

const access = await provisionAccess({
  url: cfg.INFLUX_URL,
  operatorToken: cfg.INFLUX_OPERATOR_TOKEN,
  org: cfg.INFLUX_ORG,
  services: STORE_ACCESS,
  buckets: {
    raw: { name: cfg.INFLUX_BUCKET, retentionSeconds: cfg.INFLUX_RAW_RETENTION_DAYS * DAY_S },
    aggregates: { name: cfg.INFLUX_AGG_BUCKET, retentionSeconds: cfg.INFLUX_AGG_RETENTION_DAYS * DAY_S },
  },
});
for (const service of STORE_SERVICES) {
  const dir = join(cfg.INFLUX_TOKEN_DIR, service);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, 'token');
  writeFileSync(file, `${access.tokens[service]}\n`, { mode: 0o644 });
  chmodSync(file, 0o644);
}
console.log(`buckets ${cfg.INFLUX_BUCKET} and ${cfg.INFLUX_AGG_BUCKET} in org ${cfg.INFLUX_ORG}; tokens for ${STORE_SERVICES.join(', ')} in ${cfg.INFLUX_TOKEN_DIR}`);
