/**
 * A real InfluxDB on loopback, serving the v2 HTTP API (/api/v2/write, Flux on /api/v2/query).
 * 2.x runs as production does: set up once through the setup API with an organisation and an
 * operator token (kept in the run directory, 0600), a raw bucket (90 days) and an aggregates
 * bucket (5 years), and a least-privilege token per service (shared/influx/access.ts).
 * `SMARTCITY_INFLUX=1.8` runs 1.8.10 instead: auth off, buckets are `database/retention-policy`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAY_S, provisionAccess } from '#shared/influx/access.ts';
import { AGG_STORE_DAYS, RAW_STORE_DAYS } from '#shared/privacy/retention.ts';
import { STORE_ACCESS, STORE_SERVICES } from '../services/rights.ts';
import { INFLUX_VERSION, influxDatabase, influxMajor, influxPort, runHome } from './paths.ts';
import { influxBinary, influxInstalled, installInflux } from './influxdb-build.ts';
import { portOpen, readPid, startDaemon, stopDaemon, waitFor } from './process.ts';

const home = join(runHome, 'influxdb');
const pidFile = join(home, 'influxd.pid');
const operatorFile = join(home, 'operator.json');
export const influxLogFile = join(home, 'influxd.log');
export const influxUrl = () => `http://127.0.0.1:${influxPort}`;
export const INFLUX_ORG = 'smartcity';
export const RAW_RETENTION_S = RAW_STORE_DAYS * DAY_S;
export const AGG_RETENTION_S = AGG_STORE_DAYS * DAY_S;

export { influxBinary, influxInstalled, installInflux };

export const influxPid = () => readPid(pidFile);

/** How influxd runs with its state in `dir`, serving on `port` (an instance of a test may differ). */
export function daemonSettings(dir = home, port = influxPort): { args: string[]; env: Record<string, string> } {
  if (influxMajor === 1) {
    return {
      args: ['run'],
      env: {
        INFLUXDB_REPORTING_DISABLED: 'true',
        INFLUXDB_BIND_ADDRESS: `127.0.0.1:${port + 2}`,
        INFLUXDB_META_DIR: join(dir, 'meta'),
        INFLUXDB_DATA_DIR: join(dir, 'data'),
        INFLUXDB_DATA_WAL_DIR: join(dir, 'wal'),
        INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
        INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${port}`,
        INFLUXDB_HTTP_FLUX_ENABLED: 'true',
        INFLUXDB_HTTP_LOG_ENABLED: 'false',
        INFLUXDB_HTTP_MAX_BODY_SIZE: '0',
        INFLUXDB_GRAPHITE_ENABLED: 'false',
      },
    };
  }
  return {
    args: ['run'],
    env: {
      INFLUXD_BOLT_PATH: join(dir, 'influxd.bolt'),
      INFLUXD_SQLITE_PATH: join(dir, 'influxd.sqlite'),
      INFLUXD_ENGINE_PATH: join(dir, 'engine'),
      INFLUXD_HTTP_BIND_ADDRESS: `127.0.0.1:${port}`,
      INFLUXD_REPORTING_DISABLED: 'true',
      INFLUXD_LOG_LEVEL: 'error',
      INFLUXD_CONFIG_PATH: dir, // no config file there: the environment is the whole configuration
    },
  };
}

export async function startInflux({ clean = false } = {}): Promise<void> {
  if (influxPid() !== undefined) return;
  if (await portOpen(influxPort)) throw new Error(`port ${influxPort} is taken by another process; set LOCAL_INFLUX_PORT`);
  installInflux();
  if (clean) {
    for (const d of ['meta', 'data', 'wal', 'engine', 'influxd.bolt', 'influxd.sqlite', 'operator.json', 'tokens.json']) rmSync(join(home, d), { recursive: true, force: true });
  }
  mkdirSync(home, { recursive: true });
  const { args, env } = daemonSettings();
  startDaemon({ command: influxBinary, args, cwd: home, logFile: influxLogFile, pidFile, env });
}

export async function waitInfluxReady(timeoutMs = 60_000): Promise<void> {
  await waitFor('InfluxDB', async () => (await fetch(`${influxUrl()}/health`)).ok, timeoutMs, influxLogFile);
}

interface Operator {
  token: string;
  password: string;
}

/**
 * 2.x: the first start goes through the setup API (org, raw bucket, operator user and token), as
 * the influxdb:2.7 image's DOCKER_INFLUXDB_INIT_* settings do; later starts read the operator's
 * credentials back. The operator token is used for set-up and tests' read-backs only.
 */
export async function setUpInflux(): Promise<Operator | undefined> {
  if (influxMajor === 1) return undefined;
  const res = await fetch(`${influxUrl()}/api/v2/setup`);
  const { allowed } = (await res.json()) as { allowed: boolean };
  if (!allowed) {
    if (!existsSync(operatorFile)) throw new Error(`InfluxDB at ${influxUrl()} was set up without this tool's credentials (${operatorFile}); run \`npm run services -- down\` and \`up --clean\``);
    return JSON.parse(readFileSync(operatorFile, 'utf8')) as Operator;
  }
  const operator = { token: randomBytes(32).toString('base64url'), password: randomBytes(18).toString('base64url') };
  const setup = await fetch(`${influxUrl()}/api/v2/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'operator', password: operator.password, org: INFLUX_ORG, bucket: influxDatabase, retentionPeriodSeconds: RAW_RETENTION_S, token: operator.token }),
  });
  if (!setup.ok) throw new Error(`InfluxDB setup: HTTP ${setup.status} ${await setup.text()}`);
  writeFileSync(operatorFile, JSON.stringify(operator), { mode: 0o600 });
  return operator;
}

export const operatorToken = (): string => (influxMajor === 1 || !existsSync(operatorFile) ? '' : (JSON.parse(readFileSync(operatorFile, 'utf8')) as Operator).token);

/** Where one store (the local one, or a test's) keeps its readings, and who may reach it how. */
export interface StoreAccess {
  INFLUX_URL: string;
  INFLUX_ORG: string;
  INFLUX_BUCKET: string;
  INFLUX_AGG_BUCKET: string;
  /** The operator's token (all rights): for set-up and reading back in tests. */
  operatorToken: string;
  /** Each service's least-privilege token ('' on 1.8, which has no auth). */
  tokens: Record<string, string>;
}

/** The settings one service runs with: its own token only. */
export const storeEnvFor = (a: StoreAccess, service: string): Record<string, string> => ({
  INFLUX_URL: a.INFLUX_URL,
  INFLUX_ORG: a.INFLUX_ORG,
  INFLUX_BUCKET: a.INFLUX_BUCKET,
  INFLUX_AGG_BUCKET: a.INFLUX_AGG_BUCKET,
  INFLUX_TOKEN: tokenOf(a, service),
});

/** A service's own token; one the catalogue gives no store rights has none. */
export function tokenOf(a: StoreAccess, service: string): string {
  const token = a.tokens[service];
  if (token === undefined) throw new Error(`no store token for '${service}': its stage declares no store rights`);
  return token;
}

/**
 * Buckets of their own for `name` (raw, and `<name>_aggregates`) with the services' tokens for
 * them: the local store (`telemetry`), or one test's or benchmark run's, so runs never see each
 * other's data. Idempotent.
 */
export async function provisionStore(name: string): Promise<StoreAccess> {
  const base = { INFLUX_URL: influxUrl(), INFLUX_ORG: INFLUX_ORG };
  const aggName = `${name}_aggregates`;
  if (influxMajor === 1) {
    for (const db of [name, aggName]) await createDatabase(db);
    const tokens = Object.fromEntries(STORE_SERVICES.map((s) => [s, '']));
    return { ...base, INFLUX_BUCKET: `${name}/autogen`, INFLUX_AGG_BUCKET: `${aggName}/autogen`, operatorToken: '', tokens };
  }
  const operator = operatorToken();
  if (!operator) throw new Error('InfluxDB is not set up: run `npm run services -- up`');
  const { tokens } = await provisionAccess({
    url: influxUrl(),
    operatorToken: operator,
    org: INFLUX_ORG,
    label: name,
    services: STORE_ACCESS,
    buckets: { raw: { name, retentionSeconds: RAW_RETENTION_S }, aggregates: { name: aggName, retentionSeconds: AGG_RETENTION_S } },
  });
  return { ...base, INFLUX_BUCKET: name, INFLUX_AGG_BUCKET: aggName, operatorToken: operator, tokens };
}

/** InfluxDB 1.8's bucket is `database/retention-policy`; the database is made through InfluxQL. */
async function createDatabase(name: string): Promise<void> {
  const res = await fetch(`${influxUrl()}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${name}"` }) });
  if (!res.ok) throw new Error(`CREATE DATABASE ${name}: HTTP ${res.status} ${await res.text()}`);
}

export async function influxVersion(): Promise<string | undefined> {
  try {
    const res = await fetch(`${influxUrl()}/health`);
    return ((await res.json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export const stopInflux = () => stopDaemon(pidFile);
export { portOpen, INFLUX_VERSION };
export const influxReachable = () => portOpen(influxPort);
