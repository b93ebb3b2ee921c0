/**
 * Grafana cannot run here, so its provisioning is checked the way Grafana would use it: every
 * dashboard file loads, has the `municipality` variable, and every panel's Flux query — with the
 * variables and time macros filled in as Grafana does — runs on the real InfluxDB after a
 * simulated run (plus the monitor's pipeline metrics) and returns rows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { influxMajor } from '../../engines/paths.ts';
import { createLogger } from '../../shared/logging.ts';
import { clearedPoint, raisedPoint } from '../../shared/store/alarms.ts';
import { startMonitor, type Monitor } from '../../services/monitor/monitor.ts';
import { waitUntil } from '../support/gateway.ts';
import { DASHBOARD_DIR, dashboards as loadDashboards, fillQuery, panelNamed, panelsOf } from '../support/grafana.ts';
import { readGroundTruth } from '../support/ground-truth.ts';
import { countRaw } from '../support/influx-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { createEdgeMetrics } from '../../services/edge-intake/edge-metrics.ts';
import { createMetricsRegistry } from '../../shared/http/ops-server.ts';
import { EDGE_STALE_AFTER_MS, edgeViews } from '../../shared/edge/view.ts';
import { deliveredSeries } from '../support/recompute.ts';
import { simulate } from '../support/verify.ts';

const DIR = DASHBOARD_DIR;
const DAY = 86_400_000;
// The main run, and the same devices one and two weeks earlier (for "the same weekday in earlier weeks").
const RUN = Math.floor((Date.now() - 3 * 3_600_000) / 900_000) * 900_000;
const dashboards = loadDashboards();

describe('Grafana provisioning', () => {
  let p: Pipeline;
  let monitor: Monitor;

  /** Queries as Grafana's datasource runs them: with its own read-only token. */
  const grafana = () => p.storeFor('grafana').raw.query();

  const fill = (q: string, from: number, to: number) => fillQuery(q, { bucket: p.bucket, agg_bucket: p.aggBucket, municipality: 'kalamata' }, from, to);

  beforeAll(async () => {
    p = await startPipeline();
    // The edge intake's view of two town edges: Kalamata's reporting (spooling, with a backlog), Mytilene's never heard from.
    const edgeRegistry = createMetricsRegistry('edge-intake', { processMetrics: false });
    createEdgeMetrics(edgeRegistry, ['kal-edge', 'myt-edge']).report({ edgeId: 'kal-edge', at: Date.now(), direct: false, since: Date.now() - 120_000, spoolBytes: 2048, spoolRecords: 10, oldestUnsentAt: Date.now() - 120_000 });
    monitor = startMonitor({
      sources: [...p.registries.map((r) => ({ service: r.service, read: () => r.registry.metrics() })), { service: 'edge-intake', read: () => edgeRegistry.metrics() }],
      write: (points) => p.storeFor('monitor').write(points), // the monitor's own write-only token
      intervalMs: 1000,
      log: createLogger('monitor-test', 'silent'),
      registry: new Registry(),
    });
    const common = { devices: 24, municipalities: ['kalamata', 'mytilene'], rate: 20, count: 120, batch: 1, seed: 5, simStepMs: 60_000 };
    const earlier = [];
    for (const weeks of [2, 1]) earlier.push(await simulate(p, { ...common, count: 60, simStart: RUN - weeks * 7 * DAY, groundTruthPath: join(p.env.DATA_DIR!, `truth-${weeks}w-before.jsonl`) }));
    const now = await simulate(p, { ...common, simStart: RUN, faultList: ['malformed'] });
    const delivered = [...earlier, now].reduce((n, s) => n + [...deliveredSeries(readGroundTruth(s.groundTruthPath)).values()].reduce((m, rs) => m + rs.length, 0), 0);
    await waitUntil(async () => (await countRaw(p.store, 'energy')) + (await countRaw(p.store, 'fleet')) + (await countRaw(p.store, 'parking')) === delivered, 90_000, 'all readings stored');
    await waitUntil(async () => (await p.store.aggregates.query().collectRows(`from(bucket: "${p.aggBucket}") |> range(start: 0) |> filter(fn: (r) => r._measurement == "parking_15m") |> filter(fn: (r) => r._time >= ${new Date(RUN + 60 * 60_000).toISOString()}) |> limit(n: 1)`)).length > 0, 60_000, 'aggregates of the run');
    await monitor.scrapeOnce();
    // A vehicle in private use: readings without a position (as the normaliser stores them), written with the writer's token.
    await p.storeFor('writer').write(Array.from({ length: 3 }, (_, i) => ({ measurement: 'fleet', tags: { municipality: 'kalamata', device: 'kalamata-fleet-private' }, fields: { private_use: true, speed_kmh: 30 }, ts: RUN + 5 * 60_000 + i * 60_000 })));
    // Two alarms of the run as the alarm stage writes them (its own token): one open, one cleared.
    const alarm = (n: number) => ({ alarmId: `grafana-a${n}`, municipality: 'kalamata', subject: `kalamata-energy-00${n}`, ruleId: 'power-high', type: 'threshold', kind: 'energy', severity: 'major', raisedAt: RUN + n * 600_000, evidence: [] });
    // And a vehicle's, cleared: named only on the fleet-operations dashboard.
    const idling = { alarmId: 'grafana-a3', municipality: 'kalamata', subject: 'kalamata-fleet-001', ruleId: 'idling', type: 'idling', kind: 'fleet', severity: 'minor', raisedAt: RUN + 45 * 60_000, evidence: [] };
    await p.storeFor('alarms').write([raisedPoint(alarm(1)), raisedPoint(alarm(2)), clearedPoint(alarm(1), RUN + 30 * 60_000), raisedPoint(idling), clearedPoint(idling, RUN + 60 * 60_000)]);
  }, 300_000);
  afterAll(async () => {
    monitor?.stop();
    await p?.close();
  });

  it('provisions the InfluxDB datasource from the environment and loads the dashboards folder', () => {
    const ds = YAML.parse(readFileSync('deploy/grafana/provisioning/datasources/influxdb.yaml', 'utf8')) as { datasources: { uid: string; type: string; jsonData: { version: string }; secureJsonData: { token: string } }[] };
    expect(ds.datasources[0]).toMatchObject({ uid: 'smartcity-influxdb', type: 'influxdb', jsonData: { version: 'Flux' }, secureJsonData: { token: '${INFLUX_TOKEN}' } });
    const prov = YAML.parse(readFileSync('deploy/grafana/provisioning/dashboards/smartcity.yaml', 'utf8')) as { providers: { options: { path: string } }[] };
    const compose = YAML.parse(readFileSync('docker-compose.yml', 'utf8')) as { services: { grafana: { volumes: string[] } } };
    expect(compose.services.grafana.volumes).toContain(`./${DIR}:${prov.providers[0]!.options.path}:ro`);
    expect(dashboards.map((d) => d.d.uid).sort()).toEqual(['smartcity-energy', 'smartcity-fleet-operations', 'smartcity-mobility', 'smartcity-pipeline']);
  });

  it.each(dashboards.map((d) => [d.file, d.d] as const))('%s: a municipality variable that lists the tenants', async (_file, d) => {
    const v = d.templating.list.find((x) => x.name === 'municipality');
    expect(v?.type).toBe('query');
    const rows = await grafana().collectRows<{ _value: string }>(fill(v!.query!, RUN - 8 * DAY, RUN + DAY));
    expect(rows.map((r) => r._value).sort()).toEqual(['kalamata', 'mytilene']);
  });

  it.each(dashboards.map((d) => [d.file, d.d] as const))('%s: every panel query runs and returns rows', async (_file, d) => {
    const panels = panelsOf(d.panels).filter((x) => x.targets?.length);
    expect(panels.length).toBeGreaterThanOrEqual(5);
    const from = RUN - DAY;
    const to = RUN + DAY;
    for (const panel of panels) {
      for (const t of panel.targets!) {
        // InfluxDB 1.8's Flux (0.65) has no time zones: those panels need 2.x (SMARTCITY_INFLUX=1.8 only).
        if (influxMajor === 1 && t.query.includes('import "timezone"')) continue;
        expect(t.query, `${panel.title} ${t.refId}`).toMatch(/\$\{municipality\}|r\._measurement == "pipeline"/);
        let rows: unknown[] = [];
        try {
          rows = await grafana().collectRows(fill(t.query, from, to));
        } catch (err) {
          throw new Error(`${d.title} / ${panel.title} / ${t.refId}: query failed: ${(err as Error).message}`);
        }
        expect(rows.length, `${d.title} / ${panel.title} / ${t.refId} returns rows`).toBeGreaterThan(0);
      }
    }
  });

  it("pipeline health counts every reading stored, a vehicle's in private use (no position) too", async () => {
    const rows = await grafana().collectRows<{ _measurement: string; _value: number }>(fill(panelNamed('pipeline-health.json', 'Readings stored per minute').targets![0]!.query, RUN - 8 * DAY, RUN + DAY));
    const counted = rows.filter((r) => r._measurement === 'fleet').reduce((n, r) => n + r._value, 0);
    const stored = await p.store.raw.query().collectRows<{ _value: number }>(`from(bucket: "${p.bucket}") |> range(start: ${new Date(RUN - 8 * DAY).toISOString()}, stop: ${new Date(RUN + DAY).toISOString()}) |> filter(fn: (r) => r._measurement == "fleet" and r.municipality == "kalamata" and (r._field == "lat" or r._field == "private_use")) |> group(columns: ["_field"]) |> count()`);
    expect(counted).toBe(stored.reduce((n, r) => n + r._value, 0));
    expect(stored.length).toBe(2); // located readings and the private ones
  });

  it("pipeline health's town edges: every edge, the one never heard from too, as the operators' API shows them", async () => {
    const q = panelNamed('pipeline-health.json', 'Town edges').targets![0]!.query;
    const rows = await grafana().collectRows<Record<string, string | number>>(fill(q, RUN - DAY, RUN + DAY));
    expect(rows.map((r) => [r.edge, r.mode, r['backlog bytes'], r['backlog records']])).toEqual([
      ['kal-edge', 'spooling', 2048, 10],
      ['myt-edge', 'never reported', null, null],
    ]);
    expect(Number(rows[0]!['silent for (s)'])).toBeLessThan(600);
    // The operators' route reads the same figures through the store (the KPI API's own token).
    const views = edgeViews(await p.telemetry.edgeFigures(RUN - DAY), Date.now(), EDGE_STALE_AFTER_MS);
    expect(views.map((v) => [v.edge, v.mode, v.backlogBytes, v.backlogRecords])).toEqual([
      ['myt-edge', 'unknown', 0, 0],
      ['kal-edge', 'spooling', 2048, 10],
    ]);
  });

  it("pipeline health's alarm table: the municipality's alarms, open ones first", async () => {
    const q = panelNamed('pipeline-health.json', 'Alarms —').targets![0]!.query;
    const rows = await grafana().collectRows<{ alarm: string; state: string; subject: string }>(fill(q, RUN - DAY, RUN + DAY));
    expect(rows.map((r) => [r.alarm, r.state, r.subject])).toEqual([
      ['grafana-a2', 'raised', 'kalamata-energy-002'],
      ['grafana-a3', 'cleared', 'a vehicle'],
      ['grafana-a1', 'cleared', 'kalamata-energy-001'],
    ]);
  });

  it.each(dashboards.map((d) => [d.file, d.d] as const))("%s: alarms as annotations, one per alarm of the municipality", async (_file, d) => {
    const q = d.annotations.list.find((a) => a.name === 'Alarms')?.target?.query;
    expect(q).toBeDefined();
    const rows = await grafana().collectRows<{ _time: string; _value: string }>(fill(q!, RUN - DAY, RUN + DAY));
    const vehicle = d.uid === 'smartcity-fleet-operations' ? 'kalamata-fleet-001' : 'a vehicle';
    expect(rows.map((r) => r._value).sort()).toEqual([`alarm idling: ${vehicle}`, 'alarm power-high: kalamata-energy-001', 'alarm power-high: kalamata-energy-002']);
  });

  it.each(dashboards.filter((d) => d.d.uid !== 'smartcity-fleet-operations').map((d) => [d.file, d.d] as const))("%s: names no vehicle and locates none (that is the fleet-operations dashboard's)", async (_file, d) => {
    for (const panel of panelsOf(d.panels).filter((x) => x.targets?.length)) {
      for (const t of panel.targets!) {
        // Positions only counted (readings stored per minute), never shown.
        if (/_field == "(lat|lon)"/.test(t.query)) expect(t.query, panel.title).toMatch(/fn: count/);
        if (influxMajor === 1 && t.query.includes('import "timezone"')) continue;
        const rows = await grafana().collectRows(fill(t.query, RUN - DAY, RUN + DAY));
        expect(JSON.stringify(rows), panel.title).not.toMatch(/kalamata-fleet-\d/);
      }
    }
  });

  it("mobility: the fleet by vehicle type and district, adding up to the fleet-operations dashboard's vehicles", async () => {
    const sum = async (file: string, title: string) => (await grafana().collectRows<{ _value: number }>(fill(panelNamed(file, title).targets![0]!.query, RUN - DAY, RUN + DAY))).reduce((n, r) => n + r._value, 0);
    const perVehicle = await sum('fleet-operations.json', 'Fleet km per vehicle');
    expect(perVehicle).toBeGreaterThan(0);
    expect(await sum('mobility.json', 'Fleet km by vehicle type')).toBeCloseTo(perVehicle, 6);
    expect(await sum('mobility.json', 'Fleet km by district')).toBeCloseTo(perVehicle, 6);
  });
});
