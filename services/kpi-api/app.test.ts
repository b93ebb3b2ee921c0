/**
 * The KPI app's HTTP behaviour on a stub source (the KPI numbers themselves are tested on the real
 * InfluxDB in test/kpi): authentication, per-key rate limit, errors as JSON.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import type { KpiSource } from '../../shared/kpi/source.ts';
import type { AlarmSource } from '../../shared/store/alarms.ts';
import { createLogger } from '../../shared/logging.ts';
import { buildKpiApp, type KpiApp } from './app.ts';
import { vehiclePrivacyIn } from './vehicle-privacy.ts';
import { AlarmNotes } from './alarm-notes.ts';
import { Kpis } from './kpis.ts';
import { EDGE_METRIC, type EdgeFigures, type EdgeSource } from '../../shared/edge/view.ts';

const empty: KpiSource & AlarmSource = { windows: async () => [], lastSeen: async () => [], alarmPoints: async () => [] };

const NOW = Date.now();
/** Two edges as the store holds the intake's figures: one reporting now, one silent for 10 minutes with a backlog. */
const edges: EdgeSource = {
  edgeFigures: async (): Promise<EdgeFigures[]> => [
    { edge: 'myt-edge', fields: { [EDGE_METRIC.lastStatus]: (NOW - 600_000) / 1000, [EDGE_METRIC.direct]: 0, [EDGE_METRIC.since]: (NOW - 900_000) / 1000, [EDGE_METRIC.backlogBytes]: 4096, [EDGE_METRIC.backlogRecords]: 20, [EDGE_METRIC.oldestUnsent]: (NOW - 900_000) / 1000 } },
    { edge: 'kal-edge', fields: { [EDGE_METRIC.lastStatus]: NOW / 1000, [EDGE_METRIC.direct]: 1, [EDGE_METRIC.since]: (NOW - 60_000) / 1000, [EDGE_METRIC.backlogBytes]: 0, [EDGE_METRIC.backlogRecords]: 0, [EDGE_METRIC.oldestUnsent]: 0 } },
    { edge: 'ore-edge', fields: { [EDGE_METRIC.lastStatus]: 0 } },
  ],
};

describe('KPI app', () => {
  let app: KpiApp;
  let a: string;
  let b: string;
  let admin: string;
  beforeAll(async () => {
    const keys = new ApiKeyStore(join(mkdtempSync(join(tmpdir(), 'kpi-app-')), 'keys.json'));
    a = keys.add({ municipality: 'kalamata', admin: false }).key;
    b = keys.add({ municipality: 'kalamata', admin: false }).key;
    admin = keys.add({ municipality: null, admin: true }).key;
    app = await buildKpiApp({ kpis: new Kpis(empty, () => []), edges, keys, notes: new AlarmNotes(join(mkdtempSync(join(tmpdir(), 'notes-')), 'alarm-notes.json')), privacy: vehiclePrivacyIn(mkdtempSync(join(tmpdir(), 'privacy-'))), log: createLogger('t', 'silent'), registry: new Registry(), municipalities: () => [], rateLimitPerMinute: 5, authFailuresPerMinute: 10 });
  });
  afterAll(() => app.close());

  const get = (key: string) => app.inject({ method: 'GET', url: '/api/v1/municipalities/kalamata/health', headers: { authorization: `Bearer ${key}` } });

  it('limits requests per key, not per client: another key goes on', async () => {
    for (let i = 0; i < 5; i++) expect((await get(a)).statusCode).toBe(200);
    const limited = await get(a);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: 'rate_limited', message: expect.stringMatching(/more than 5 requests per minute/) as string });
    expect((await get(b)).statusCode).toBe(200);
  });

  it("shows the operators every edge — cut off ones first, since their last contact — and no municipality's key", async () => {
    const edgesOf = (key: string) => app.inject({ method: 'GET', url: '/api/v1/edges', headers: { authorization: `Bearer ${key}` } });
    const res = await edgesOf(admin);
    expect(res.statusCode).toBe(200);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(res.json<{ rows: unknown[] }>().rows).toEqual([
      { edge: 'myt-edge', connected: false, lastContactAt: iso(NOW - 600_000), mode: 'spooling', since: iso(NOW - 600_000), backlogBytes: 4096, backlogRecords: 20, oldestUnsentAt: iso(NOW - 900_000) },
      { edge: 'ore-edge', connected: false, lastContactAt: null, mode: 'unknown', since: null, backlogBytes: 0, backlogRecords: 0, oldestUnsentAt: null },
      { edge: 'kal-edge', connected: true, lastContactAt: iso(NOW), mode: 'direct', since: iso(NOW - 60_000), backlogBytes: 0, backlogRecords: 0, oldestUnsentAt: null },
    ]);
    const tenant = await edgesOf(b);
    expect([tenant.statusCode, tenant.json()]).toEqual([403, { error: 'forbidden', message: "this route is the platform operators': it needs an admin key" }]);
  });

  it('answers unknown routes and malformed keys with JSON errors', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { authorization: `Bearer ${b}` } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found' });
    const bad = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Bearer not-a-key' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ error: 'unauthorized', message: 'unknown or revoked API key' });
  });

  it('refuses a calendar date that does not exist instead of rolling it over', async () => {
    for (const from of ['2026-02-30', '2026-02-30T10:00:00Z', '2026-13-01']) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/municipalities/kalamata/energy?from=${from}`, headers: { authorization: `Bearer ${b}` } });
      expect(res.statusCode, from).toBe(400);
      expect(res.json()).toMatchObject({ message: expect.stringMatching(/querystring.from/) as string });
    }
  });

  it('limits requests with unknown keys per address, while a valid key from it goes on', async () => {
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer guess-${i}` } })).statusCode);
    // A budget of 10 per minute per address (one was spent by the test above): 401s, then 429s.
    expect(statuses[0]).toBe(401);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.slice(-2)).toEqual([429, 429]);
    const c = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${b}` } });
    expect(c.statusCode).not.toBe(429);
  });

  it('serves the page with a Content-Security-Policy that allows only its own scripts', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });
});
