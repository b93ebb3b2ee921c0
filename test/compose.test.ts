/**
 * docker-compose.yml is for users with Docker (no engine runs here): it is checked by parsing.
 * Every service's environment must pass the same config schema the service validates at start,
 * and ports and volumes must be consistent.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../shared/config.ts';
import { gatewayEnv } from '../services/gateway/config.ts';
import { normalizerEnv } from '../services/normalizer/config.ts';
import { writerEnv } from '../services/writer/config.ts';
import { aggregatorEnv } from '../services/aggregator/config.ts';

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown>;
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const SCHEMAS = { gateway: gatewayEnv, normalizer: normalizerEnv, writer: writerEnv, aggregator: aggregatorEnv } as const;

describe('docker-compose.yml', () => {
  it.each(Object.keys(SCHEMAS))('gives the %s an environment its config schema accepts', (name) => {
    const svc = compose.services[name]!;
    expect(svc.command).toEqual([name]);
    const cfg = parseConfig(SCHEMAS[name as keyof typeof SCHEMAS], svc.environment ?? {});
    expect(cfg.KAFKA_BROKERS).toEqual(['kafka:9092']);
    // Its healthcheck asks its own ops port.
    expect(svc.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${cfg.OPS_PORT}/readyz`);
  });

  it('publishes the gateway on its configured MQTT port and points workers at InfluxDB with its init settings', () => {
    const gw = compose.services.gateway!;
    expect(gw.ports).toContain(`${gw.environment!.MQTT_PORT}:${gw.environment!.MQTT_PORT}`);
    const influx = compose.services.influxdb!.environment!;
    for (const w of ['writer', 'aggregator']) {
      const e = compose.services[w]!.environment!;
      expect(e.INFLUX_TOKEN).toBe(influx.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
      expect(e.INFLUX_ORG).toBe(influx.DOCKER_INFLUXDB_INIT_ORG);
      expect(e.INFLUX_BUCKET).toBe(influx.DOCKER_INFLUXDB_INIT_BUCKET);
    }
  });

  it('pins every image and declares every named volume it mounts', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.image) expect(svc.image, name).toMatch(/:[0-9][\w.-]*$/);
      for (const v of svc.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(compose.volumes, `${name} mounts ${source}`).toHaveProperty(source);
      }
      for (const dep of Object.keys(svc.depends_on ?? {})) expect(compose.services, `${name} depends on ${dep}`).toHaveProperty(dep);
    }
  });
});
