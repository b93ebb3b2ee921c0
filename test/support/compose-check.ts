/**
 * docker-compose.yml checked against the stage catalogue: every stage is a compose service that
 * runs it, with an environment its own schema accepts, a healthcheck on its ops port, the bus or
 * the store where its rights say so (the store through a token file of its own), and a place in
 * the monitor's targets. A list of what is wrong; empty when compose and catalogue agree.
 */
import { parseConfig } from '../../shared/config.ts';
import { ENGINE_SETTINGS } from '../../shared/engines.ts';
import type { StageDefinition } from '../../shared/stages/stage.ts';

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  entrypoint?: string[];
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean; volume?: { subpath?: string } })[];
  depends_on?: Record<string, unknown>;
  healthcheck?: { test: string[] };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

/** A service's settings as its schema sees them; secret files (`*_FILE`) exist inside its container only. */
export const settingsOf = (svc: ComposeService) => Object.fromEntries(Object.entries(svc.environment ?? {}).filter(([k]) => !k.endsWith('_FILE')));

/** Where `service` mounts its own (read-only) subdirectory of the token volume, if it does. */
export function tokenMount(compose: ComposeFile, service: string): string | undefined {
  const mounts = (compose.services[service]?.volumes ?? []).filter((v) => typeof v !== 'string' && v.source === 'influx-tokens');
  const m = mounts[0];
  if (mounts.length !== 1 || typeof m === 'string' || !m?.read_only || m.volume?.subpath !== service) return undefined;
  return m.target;
}

export function composeProblems(compose: ComposeFile, stages: readonly StageDefinition[], monitor = 'monitor'): string[] {
  const problems: string[] = [];
  const scraped = compose.services[monitor]?.environment?.MONITOR_TARGETS?.split(',').map((t) => t.split('=')[0]) ?? [];
  for (const stage of stages) {
    const svc = compose.services[stage.name];
    if (!svc) {
      problems.push(`${stage.name}: no compose service`);
      continue;
    }
    if (svc.command?.join(' ') !== stage.name) problems.push(`${stage.name}: its command is not [${stage.name}]`);
    let cfg: Record<string, unknown>;
    try {
      cfg = parseConfig(stage.env, settingsOf(svc));
    } catch (err) {
      problems.push(`${stage.name}: ${(err as Error).message}`);
      continue;
    }
    if (!svc.healthcheck?.test.join(' ').includes(`127.0.0.1:${String(cfg.OPS_PORT)}/readyz`)) problems.push(`${stage.name}: no healthcheck on its ops port`);
    const onBus = (stage.rights.consumes?.length ?? 0) + (stage.rights.produces?.length ?? 0) > 0;
    if (onBus && String(parseConfig(ENGINE_SETTINGS.kafka, settingsOf(svc)).KAFKA_BROKERS) !== 'kafka:9092') problems.push(`${stage.name}: not pointed at the compose Kafka`);
    if (stage.rights.store) {
      if (parseConfig(ENGINE_SETTINGS.influxdb, settingsOf(svc)).INFLUX_URL !== 'http://influxdb:8086') problems.push(`${stage.name}: not pointed at the compose InfluxDB`);
      const mount = tokenMount(compose, stage.name);
      if (!mount || svc.environment?.INFLUX_TOKEN_FILE !== `${mount}/token`) problems.push(`${stage.name}: no store token file of its own`);
    }
    if (stage.name !== monitor && !scraped.includes(stage.name)) problems.push(`${stage.name}: not among the monitor's targets`);
  }
  return problems;
}
