/**
 * docker-compose.yml is for users with Docker (no engine runs here): it is checked by parsing.
 * Every service's environment must pass the same config schema the service validates at start,
 * and ports and volumes must be consistent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '#shared/config.ts';
import { gatewayEnv } from '../services/gateway/config.ts';
import { normalizerEnv } from '../services/normalizer/config.ts';
import { writerEnv } from '../services/writer/config.ts';
import { aggregatorEnv } from '../services/aggregator/config.ts';
import { kpiApiEnv } from '../services/kpi-api/config.ts';
import { monitorEnv } from '../services/monitor/config.ts';

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  entrypoint?: string[];
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean; volume?: { subpath?: string } })[];
  depends_on?: Record<string, unknown>;
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const SCHEMAS = { gateway: gatewayEnv, normalizer: normalizerEnv, writer: writerEnv, aggregator: aggregatorEnv } as const;
const HTTP_SCHEMAS = { 'kpi-api': kpiApiEnv, monitor: monitorEnv } as const;

/** A service's settings as its schema sees them; secret files (`*_FILE`) exist inside its container only (their mounts are checked below). */
const settingsOf = (svc: ComposeService) => Object.fromEntries(Object.entries(svc.environment ?? {}).filter(([k]) => !k.endsWith('_FILE')));

/** Where `service` mounts its own (read-only) subdirectory of the token volume. */
function tokenMount(service: string): string {
  const mounts = (compose.services[service]!.volumes ?? []).filter((v) => typeof v !== 'string' && v.source === 'influx-tokens');
  expect(mounts, `${service} mounts one token subdirectory`).toHaveLength(1);
  const m = mounts[0] as Exclude<(typeof mounts)[number], string>;
  expect(m).toMatchObject({ read_only: true, volume: { subpath: service } });
  return m.target;
}

describe('docker-compose.yml', () => {
  it.each(Object.keys(SCHEMAS))('gives the %s an environment its config schema accepts', (name) => {
    const svc = compose.services[name]!;
    expect(svc.command).toEqual([name]);
    const cfg = parseConfig(SCHEMAS[name as keyof typeof SCHEMAS], settingsOf(svc));
    expect(cfg.KAFKA_BROKERS).toEqual(['kafka:9092']);
    // Its healthcheck asks its own ops port.
    expect(svc.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${cfg.OPS_PORT}/readyz`);
  });

  it.each(Object.keys(HTTP_SCHEMAS))('gives the %s an environment its config schema accepts, pointed at InfluxDB', (name) => {
    const svc = compose.services[name]!;
    expect(svc.command).toEqual([name]);
    const cfg = parseConfig(HTTP_SCHEMAS[name as keyof typeof HTTP_SCHEMAS], settingsOf(svc));
    expect(cfg.INFLUX_URL).toBe('http://influxdb:8086');
    expect(svc.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${cfg.OPS_PORT}/readyz`);
  });

  it('publishes the KPI API on HTTP_PORT and lets the monitor scrape every service on its ops port', () => {
    const api = compose.services['kpi-api']!;
    expect(api.ports).toContain(`${api.environment!.HTTP_PORT}:${api.environment!.HTTP_PORT}`);
    const targets = parseConfig(monitorEnv, settingsOf(compose.services.monitor!)).MONITOR_TARGETS;
    const scraped = new Map(targets.map((t) => [t.service, t.url]));
    for (const name of [...Object.keys(SCHEMAS), 'kpi-api']) {
      expect(scraped.get(name), name).toBe(`http://${name}:${compose.services[name]!.environment!.OPS_PORT}/metrics`);
    }
  });

  it('gives Grafana the datasource settings of InfluxDB, its own token and the provisioning folders', () => {
    const g = compose.services.grafana!;
    const influx = compose.services.influxdb!.environment!;
    expect(g.environment).toMatchObject({ INFLUX_URL: 'http://influxdb:8086', INFLUX_ORG: influx.DOCKER_INFLUXDB_INIT_ORG, INFLUX_BUCKET: influx.DOCKER_INFLUXDB_INIT_BUCKET });
    expect(g.environment).not.toHaveProperty('INFLUX_TOKEN');
    expect(g.entrypoint?.join(' ')).toContain(`INFLUX_TOKEN=$$(cat ${tokenMount('grafana')}/token)`) // $$: compose's escape of $;
    expect(g.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    for (const v of g.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0]! : v.source;
      if (source.startsWith('./')) expect(existsSync(source), source).toBe(true);
    }
  });

  it('points every InfluxDB user at the set-up org and buckets, each with only its own token', () => {
    const gw = compose.services.gateway!;
    expect(gw.ports).toContain(`${gw.environment!.MQTT_PORT}:${gw.environment!.MQTT_PORT}`);
    const influx = compose.services.influxdb!.environment!;
    const access = compose.services['influxdb-access']!.environment!;
    expect(access).toMatchObject({ INFLUX_ORG: influx.DOCKER_INFLUXDB_INIT_ORG, INFLUX_BUCKET: influx.DOCKER_INFLUXDB_INIT_BUCKET, INFLUX_OPERATOR_TOKEN: influx.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN });
    for (const w of ['writer', 'aggregator', 'kpi-api', 'monitor']) {
      const e = compose.services[w]!.environment!;
      expect(e.INFLUX_ORG).toBe(influx.DOCKER_INFLUXDB_INIT_ORG);
      expect(e.INFLUX_BUCKET).toBe(influx.DOCKER_INFLUXDB_INIT_BUCKET);
      expect(e.INFLUX_AGG_BUCKET).toBe(access.INFLUX_AGG_BUCKET);
      // No token in the environment: the file of its own, from its own subdirectory of the volume.
      expect(e).not.toHaveProperty('INFLUX_TOKEN');
      expect(e.INFLUX_TOKEN_FILE).toBe(`${tokenMount(w)}/token`);
      expect(compose.services[w]!.depends_on).toHaveProperty('influxdb-access', { condition: 'service_completed_successfully' });
    }
    for (const [name, svc] of Object.entries(compose.services)) {
      if (name === 'influxdb' || name === 'influxdb-access') continue;
      expect(Object.values(svc.environment ?? {}), `${name} holds the operator's token`).not.toContain(influx.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    }
  });

  it('pins every image and declares every named volume it mounts', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.image) expect(svc.image, name).toMatch(/:[0-9][\w.-]*$/);
      for (const v of svc.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.source;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(compose.volumes, `${name} mounts ${source}`).toHaveProperty(source);
      }
      for (const dep of Object.keys(svc.depends_on ?? {})) expect(compose.services, `${name} depends on ${dep}`).toHaveProperty(dep);
    }
  });
});
