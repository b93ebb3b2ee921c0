/**
 * The edge gateway: the sources devices reach it by — MQTT (`mqtt-source.ts`), HTTP ingest and
 * The Things Stack's webhook (`http-ingest.ts`), ChirpStack's MQTT integration
 * (`chirpstack-source.ts`) — composed over one context (`context.ts`): the login, the limits,
 * the path onto the bus and the dead-letter sink they share. Registry changes apply at once:
 * revoked devices are disconnected.
 */
import { readSettingFile } from '../../shared/config-error.ts';
import type { Aedes } from 'aedes';
import type { Bus } from '../../shared/bus/bus.ts';
import type { Logger } from '../../shared/logging.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { startChirpstackSource, type ChirpstackSource } from './chirpstack-source.ts';
import type { GatewayConfig } from './config.ts';
import { openGatewayContext } from './context.ts';
import type { Forwarder } from './forwarder.ts';
import { buildHttpIngest } from './http-ingest.ts';
import type { GatewayMetrics } from './metrics.ts';
import { startMqttSource } from './mqtt-source.ts';
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
  chirpstack: ChirpstackSource | undefined;
  /** Stop accepting, drain in-flight readings to Kafka or the spool, close. */
  close(): Promise<void>;
}

export async function startGateway(cfg: GatewayConfig, deps: { bus: Bus; log: Logger; metrics: GatewayMetrics }): Promise<Gateway> {
  const ctx = await openGatewayContext(cfg, deps);
  const { registry, forwarder, log } = ctx;
  const mqtt = await startMqttSource(ctx);
  const unwatch = registry.watch(() => {
    ctx.authenticator.invalidate();
    mqtt.registryChanged();
  });
  forwarder.start();
  const http = buildHttpIngest({
    ...ctx,
    gatewayId: cfg.GATEWAY_ID,
    maxPayloadBytes: cfg.MAX_PAYLOAD_BYTES,
    maxFutureMs: cfg.MAX_FUTURE_MS,
    auth: ctx.authenticator,
    log: log.child({ component: 'http-ingest' }),
    ttsWebhookSecret: cfg.TTS_WEBHOOK_SECRET,
    ttsApplications: cfg.TTS_APPLICATION_MAP,
    timeouts: { requestMs: cfg.HTTP_REQUEST_TIMEOUT_MS, headersMs: cfg.HTTP_HEADERS_TIMEOUT_MS },
  });
  await http.listen({ port: cfg.HTTP_INGEST_PORT, host: cfg.HTTP_INGEST_HOST });
  const chirpstack = cfg.CHIRPSTACK_MQTT_URL
    ? startChirpstackSource(
        { url: cfg.CHIRPSTACK_MQTT_URL, username: cfg.CHIRPSTACK_MQTT_USERNAME, password: cfg.CHIRPSTACK_MQTT_PASSWORD, ca: cfg.CHIRPSTACK_MQTT_CA ? readSettingFile('CHIRPSTACK_MQTT_CA', cfg.CHIRPSTACK_MQTT_CA) : undefined, topic: cfg.CHIRPSTACK_TOPIC, clientId: cfg.CHIRPSTACK_CLIENT_ID ?? `smartcity-${cfg.GATEWAY_ID}`, tenants: cfg.CHIRPSTACK_TENANT_MAP },
        { ...ctx, log: log.child({ component: 'chirpstack' }), maxPayloadBytes: cfg.MAX_PAYLOAD_BYTES },
      )
    : undefined;
  const httpIngestPort = (http.server.address() as { port: number }).port;
  const { mqttPort, mqttsPort } = mqtt;
  log.info({ mqttPort, mqttsPort, httpIngestPort, gatewayId: cfg.GATEWAY_ID, registry: registry.path, spool: ctx.spool.dir, openFileLimit: ctx.fileLimit?.soft, maxConnections: ctx.budget.maxTotal }, 'gateway listening');

  return {
    broker: mqtt.broker,
    forwarder,
    spool: ctx.spool,
    registry,
    mqttPort,
    mqttsPort,
    httpIngestPort,
    chirpstack,
    async close() {
      unwatch();
      // Stop new connections, then let in-flight publishes and requests finish before closing clients.
      mqtt.stopListening();
      const httpClosed = http.close();
      await chirpstack?.close();
      await forwarder.drain();
      await httpClosed;
      await ctx.close();
      await mqtt.close();
    },
  };
}
