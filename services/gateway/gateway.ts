/**
 * The edge gateway: the sources devices reach it by (`sources.ts`: MQTT, HTTP ingest with The
 * Things Stack's webhook, ChirpStack's MQTT integration) composed over one context
 * (`context.ts`): the login, the limits, the path onto the bus and the dead-letter sink they
 * share. Registry changes apply at once: revoked devices are disconnected.
 */
import type { Aedes } from 'aedes';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { chirpstackSource, type RunningChirpstack } from './chirpstack-source.ts';
import type { GatewayConfig } from './config.ts';
import { openGatewayContext, type GatewayDeps } from './context.ts';
import type { Forwarder } from './forwarder.ts';
import { httpIngestSource, type HttpIngestSource } from './http-ingest.ts';
import { mqttSource, type MqttSource } from './mqtt-source.ts';
import type { RunningSource } from './source.ts';
import { GATEWAY_SOURCES } from './sources.ts';
import type { Spool } from './spool.ts';

export interface Gateway {
  broker: Aedes;
  forwarder: Forwarder;
  spool: Spool;
  registry: DeviceRegistry;
  mqttPort: number;
  mqttsPort: number | undefined;
  httpIngestPort: number;
  /** The ChirpStack MQTT source, when CHIRPSTACK_MQTT_URL is set. */
  chirpstack: RunningChirpstack | undefined;
  /** Stop accepting, drain in-flight readings to Kafka or the spool, close. */
  close(): Promise<void>;
}

export async function startGateway(cfg: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const ctx = await openGatewayContext(cfg, deps);
  const { registry, forwarder, log } = ctx;
  const running = new Map<string, RunningSource>();
  try {
    for (const source of GATEWAY_SOURCES) if (source.enabled(cfg)) running.set(source.name, await source.start(ctx));
  } catch (err) {
    for (const r of running.values()) await Promise.resolve(r.stopTaking()).then(() => r.close()).catch(() => undefined);
    await ctx.close();
    throw err;
  }
  const unwatch = registry.watch(() => {
    ctx.authenticator.invalidate();
    for (const r of running.values()) r.registryChanged?.();
  });
  forwarder.start();
  const described = Object.assign({}, ...[...running.values()].map((r) => r.describe)) as Record<string, unknown>;
  log.info({ ...described, gatewayId: cfg.GATEWAY_ID, registry: registry.path, spool: ctx.spool.dir, openFileLimit: ctx.fileLimit?.soft, maxConnections: ctx.budget.maxTotal }, 'gateway listening');
  const mqtt = running.get(mqttSource.name) as MqttSource;

  return {
    broker: mqtt.broker,
    forwarder,
    spool: ctx.spool,
    registry,
    mqttPort: mqtt.mqttPort,
    mqttsPort: mqtt.mqttsPort,
    httpIngestPort: (running.get(httpIngestSource.name) as HttpIngestSource).port,
    chirpstack: running.get(chirpstackSource.name) as RunningChirpstack | undefined,
    async close() {
      unwatch();
      // Stop taking input everywhere, let in-flight publishes and requests finish onto the bus or
      // the spool, then close what is left.
      for (const r of running.values()) await r.stopTaking();
      await forwarder.drain();
      for (const r of running.values()) await r.close();
      await ctx.close();
    },
  };
}
