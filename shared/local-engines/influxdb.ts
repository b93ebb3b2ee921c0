/**
 * A real InfluxDB serving the v2 HTTP API (/api/v2/write, Flux on /api/v2/query, /health).
 * Built from its Go module: 1.8.10 is the newest line whose Flux builds without Rust, and it
 * serves the v2 compatibility API that @influxdata/influxdb-client speaks. Cached by version.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { INFLUX_VERSION, cacheHome, influxDatabase, influxPort, runHome } from './paths.ts';
import { portOpen, readPid, startDaemon, stopDaemon, waitFor } from './process.ts';
import { requireTool, run } from './tools.ts';

const installDir = join(cacheHome, `influxdb-${INFLUX_VERSION}`);
const binary = join(installDir, 'bin', 'influxd');
const home = join(runHome, 'influxdb');
const pidFile = join(home, 'influxd.pid');
export const influxLogFile = join(home, 'influxd.log');
export const influxUrl = () => `http://127.0.0.1:${influxPort}`;

export const influxInstalled = () => existsSync(binary);

export function installInflux(): void {
  if (influxInstalled()) return;
  requireTool('go', 'install the Go toolchain, e.g. apt-get install golang');
  mkdirSync(join(installDir, 'bin'), { recursive: true });
  run(
    'go',
    [
      'install',
      `-ldflags=-X main.version=${INFLUX_VERSION} -X main.branch=${INFLUX_VERSION} -X main.commit=go-module`,
      `github.com/influxdata/influxdb/cmd/influxd@v${INFLUX_VERSION}`,
    ],
    { env: { GOBIN: join(installDir, 'bin'), GOFLAGS: '-mod=mod', CGO_ENABLED: '0' }, what: `building influxd ${INFLUX_VERSION} with go install` },
  );
}

export const influxPid = () => readPid(pidFile);

export async function startInflux({ clean = false } = {}): Promise<void> {
  if (influxPid() !== undefined) return;
  if (await portOpen(influxPort)) throw new Error(`port ${influxPort} is taken by another process; set LOCAL_INFLUX_PORT`);
  installInflux();
  if (clean) for (const d of ['meta', 'data', 'wal']) rmSync(join(home, d), { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  startDaemon({
    command: binary,
    args: ['run'],
    cwd: home,
    logFile: influxLogFile,
    pidFile,
    env: {
      INFLUXDB_REPORTING_DISABLED: 'true',
      INFLUXDB_BIND_ADDRESS: `127.0.0.1:${influxPort + 2}`,
      INFLUXDB_META_DIR: join(home, 'meta'),
      INFLUXDB_DATA_DIR: join(home, 'data'),
      INFLUXDB_DATA_WAL_DIR: join(home, 'wal'),
      INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
      INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${influxPort}`,
      INFLUXDB_HTTP_FLUX_ENABLED: 'true',
      INFLUXDB_HTTP_LOG_ENABLED: 'false',
      INFLUXDB_HTTP_MAX_BODY_SIZE: '0',
      INFLUXDB_GRAPHITE_ENABLED: 'false',
    },
  });
}

export async function waitInfluxReady(timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'InfluxDB',
    async () => (await fetch(`${influxUrl()}/health`)).ok,
    timeoutMs,
    influxLogFile,
  );
}

/** InfluxDB 1.8's bucket is `database/retention-policy`; the database is made through InfluxQL. */
export async function createDatabase(name = influxDatabase): Promise<void> {
  const res = await fetch(`${influxUrl()}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `CREATE DATABASE "${name}"` }),
  });
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
export { portOpen };
export const influxReachable = () => portOpen(influxPort);
