/**
 * docker-compose.yml is for users with Docker (no engine runs here): it is checked by parsing.
 * Every stage of the catalogue must be a compose service whose environment passes the config
 * schema the stage validates at start (test/support/compose-check.ts), and ports, volumes and
 * tokens must be consistent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '#shared/config.ts';
import { CATALOGUE } from '../services/catalogue.ts';
import { monitorEnv } from '../services/monitor/config.ts';
import { composeProblems, settingsOf, tokenMount as mountOf, type ComposeFile } from './support/compose-check.ts';

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as ComposeFile;

/** Where `service` mounts its own (read-only) subdirectory of the token volume. */
function tokenMount(service: string): string {
  const target = mountOf(compose, service);
  expect(target, `${service} mounts one token subdirectory of its own, read-only`).toBeDefined();
  return target!;
}

describe('docker-compose.yml', () => {
  it('runs every stage of the catalogue, each with an environment its schema accepts, its healthcheck, engines and token', () => {
    expect(composeProblems(compose, CATALOGUE)).toEqual([]);
  });

  it('publishes the KPI API on HTTP_PORT and lets the monitor scrape every service on its ops port', () => {
    const api = compose.services['kpi-api']!;
    expect(api.ports).toContain(`${api.environment!.HTTP_PORT}:${api.environment!.HTTP_PORT}`);
    const targets = parseConfig(monitorEnv, settingsOf(compose.services.monitor!)).MONITOR_TARGETS;
    const scraped = new Map(targets.map((t) => [t.service, t.url]));
    for (const name of CATALOGUE.map((s) => s.name).filter((n) => n !== 'monitor')) {
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
    for (const w of CATALOGUE.filter((s) => s.rights.store).map((s) => s.name)) {
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
