/**
 * InfluxDB 2.x secured as production runs it, on the real local 2.x: auth on, and each service's
 * token able to do exactly what shared/influx/access.ts grants, found by trying. Then the compose
 * stack's set-up, run against a fresh 2.x the way its containers would run it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { BucketRole } from '../../shared/influx/access.ts';
import { STORE_ACCESS, STORE_SERVICES } from '../../services/rights.ts';
import { daemonSettings, influxBinary, provisionStore } from '../../engines/influxdb.ts';
import { influxMajor } from '../../engines/paths.ts';
import { waitUntil } from '../support/gateway.ts';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { probeRights } from '../support/influx-rights.ts';
import { spawnService } from '../support/spawn.ts';
import { freePort, servicesEnv, unique } from '../support/services.ts';

const expectedRights = (service: string) => ({ read: [...STORE_ACCESS[service]!.read], write: [...STORE_ACCESS[service]!.write] });

describe.skipIf(influxMajor === 1)('InfluxDB 2.x with auth on and least-privilege tokens', () => {
  it('serves 2.x and refuses a request without a token', async () => {
    const url = servicesEnv().INFLUX_URL!;
    const health = (await (await fetch(`${url}/health`)).json()) as { version: string };
    expect(health.version).toMatch(/^2\./);
    const write = await fetch(`${url}/api/v2/write?org=smartcity&bucket=telemetry`, { method: 'POST', body: 'x v=1' });
    expect(write.status).toBe(401);
    const query = await fetch(`${url}/api/v2/query?org=smartcity`, { method: 'POST', headers: { 'content-type': 'application/vnd.flux' }, body: 'buckets()' });
    expect(query.status).toBe(401);
  });

  it("gives each service exactly its rights: the KPI API's and Grafana's tokens cannot write, the writer's cannot read", async () => {
    const a = await provisionStore(unique('rights').replace(/-/g, '_'));
    const buckets: Record<BucketRole, string> = { raw: a.INFLUX_BUCKET, aggregates: a.INFLUX_AGG_BUCKET };
    for (const service of STORE_SERVICES) {
      expect(await probeRights(a.INFLUX_URL, a.INFLUX_ORG, a.tokens[service]!, buckets), service).toEqual(expectedRights(service));
    }
    expect(STORE_ACCESS['kpi-api']!.write).toEqual([]);
    // Idempotent: a second run reuses the tokens (and buckets) it made.
    expect((await provisionStore(a.INFLUX_BUCKET)).tokens).toEqual(a.tokens);
  });
});

describe.skipIf(influxMajor === 1)('`npm run service` with every service\'s token in its environment', () => {
  it('runs the KPI API on its own KPI_API_INFLUX_TOKEN, not INFLUX_TOKEN; with a token InfluxDB refuses it answers 503', async () => {
    const a = await provisionStore(unique('own').replace(/-/g, '_'));
    const dir = mkdtempSync(join(tmpdir(), 'own-token-'));
    const key = new ApiKeyStore(join(dir, 'api-keys.json')).add({ municipality: 'kalamata', admin: false }).key;
    const base = { INFLUX_URL: a.INFLUX_URL, INFLUX_ORG: a.INFLUX_ORG, INFLUX_BUCKET: a.INFLUX_BUCKET, INFLUX_AGG_BUCKET: a.INFLUX_AGG_BUCKET, DATA_DIR: dir, HTTP_HOST: '127.0.0.1' };
    const statusOf = async (env: Record<string, string>) => {
      const port = await freePort();
      const svc = await spawnService('kpi-api', { ...base, ...env, HTTP_PORT: String(port) }, (l) => l.includes('kpi-api running'));
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/municipalities/kalamata/energy?from=2026-11-01&to=2026-11-02`, { headers: { authorization: `Bearer ${key}` } });
        return res.status;
      } finally {
        svc.child.kill('SIGTERM');
      }
    };
    // INFLUX_TOKEN is one InfluxDB refuses: only the service's own token can make the query work.
    expect(await statusOf({ INFLUX_TOKEN: 'not-a-token', KPI_API_INFLUX_TOKEN: a.tokens['kpi-api']! })).toBe(200);
    expect(await statusOf({ INFLUX_TOKEN: 'not-a-token' })).toBe(503);
  }, 120_000);
});

interface ComposeService {
  entrypoint?: string[];
  environment?: Record<string, string>;
}

describe.skipIf(influxMajor === 1)("the compose stack's InfluxDB set-up, on a fresh local 2.x", () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  let influxd: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'influxd-compose-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const { args, env } = daemonSettings(dir, port);
    influxd = spawn(influxBinary, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
    await waitUntil(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok === true, 30_000, 'influxd up');
  });
  afterAll(() => {
    influxd?.kill('SIGKILL');
  });

  it('sets up org, buckets and per-service token files as the influxdb image and the influxdb-access job do', async () => {
    // 1. What the influxdb:2.7 image does with its DOCKER_INFLUXDB_INIT_* settings (`influx setup`).
    const init = compose.services.influxdb!.environment!;
    const days = Number(/^(\d+)d$/.exec(init.DOCKER_INFLUXDB_INIT_RETENTION!)![1]);
    const setup = await fetch(`${url}/api/v2/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: init.DOCKER_INFLUXDB_INIT_USERNAME, password: init.DOCKER_INFLUXDB_INIT_PASSWORD, org: init.DOCKER_INFLUXDB_INIT_ORG, bucket: init.DOCKER_INFLUXDB_INIT_BUCKET, retentionPeriodSeconds: days * 86_400, token: init.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN }),
    });
    expect(setup.status).toBe(201);

    // 2. The influxdb-access container: its entrypoint with its environment (the address and the
    //    volume's path are this machine's), twice, as a restarted stack would.
    const job = compose.services['influxdb-access']!;
    expect(job.entrypoint).toEqual(['npm', 'run', '--silent', 'influx-access']);
    const tokenDir = mkdtempSync(join(tmpdir(), 'influx-tokens-'));
    const jobEnv = { ...job.environment!, INFLUX_URL: url, INFLUX_TOKEN_DIR: tokenDir };
    const runs: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const [command, ...args] = job.entrypoint!;
      const run = spawnSync(command!, args, { env: { ...process.env, ...jobEnv }, encoding: 'utf8', timeout: 60_000 });
      const out = `${run.stdout}${run.stderr}`;
      expect(run.status, out).toBe(0);
      expect(out).toContain(`tokens for ${STORE_SERVICES.join(', ')}`);
      const tokens = STORE_SERVICES.map((s) => readFileSync(join(tokenDir, s, 'token'), 'utf8').trim());
      for (const t of tokens) expect(out).not.toContain(t); // prints no token
      runs.push(tokens);
    }
    expect(runs[1]).toEqual(runs[0]);

    // Buckets and retentions.
    const op = { authorization: `Token ${init.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN}` };
    const list = (await (await fetch(`${url}/api/v2/buckets?org=${init.DOCKER_INFLUXDB_INIT_ORG}`, { headers: op })).json()) as { buckets: { name: string; retentionRules: { everySeconds: number }[] }[] };
    const retention = Object.fromEntries(list.buckets.map((b) => [b.name, (b.retentionRules[0]?.everySeconds ?? 0) / 86_400]));
    expect(retention).toMatchObject({ [job.environment!.INFLUX_BUCKET!]: 90, [job.environment!.INFLUX_AGG_BUCKET!]: 1825 });

    // 3. Each service's token file holds exactly that service's rights.
    const buckets: Record<BucketRole, string> = { raw: job.environment!.INFLUX_BUCKET!, aggregates: job.environment!.INFLUX_AGG_BUCKET! };
    for (const service of STORE_SERVICES) {
      expect(existsSync(join(tokenDir, service, 'token'))).toBe(true);
      const token = readFileSync(join(tokenDir, service, 'token'), 'utf8').trim();
      expect(await probeRights(url, init.DOCKER_INFLUXDB_INIT_ORG!, token, buckets), service).toEqual(expectedRights(service));
    }
  }, 120_000);
});
