/**
 * The ChirpStack v4 MQTT integration as a source: the gateway connects to the network server's
 * broker as a client (its own client id, a persistent session, QoS 1) and takes each uplink event
 * (`application/{applicationId}/device/{devEui}/event/up`) onto the gateway's one path to the bus.
 *
 * An event is acknowledged to the broker only once the bus (or the spool) has it — mqtt.js sends
 * the PUBACK when `handleMessage` calls back, one message at a time — so a gateway killed before
 * that gets the event again from its session. Events are mapped to registered devices by
 * `deviceInfo.devEui`; when a tenant → municipality map is configured, the event's tenant must
 * name the device's municipality. What no device can own (unknown DevEUI, tenant mismatch, not
 * JSON) is dead-lettered with the reason; an event with no decoded `object` is left to the
 * normaliser, which dead-letters it naming the field. Repeats of a `deduplicationId` are dropped.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../shared/logging.ts';
import type { RateLimiter } from '../../shared/rate-limit.ts';
import type { DeviceRecord, DeviceRegistry } from '../../shared/registry/device-registry.ts';
import type { DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';
import { checkDevEui, checkForeignId, checkSize } from '../../shared/schemas/identifiers.ts';
import type { SampledLog } from '../../shared/sampled-log.ts';
import { backoffMs, sleep } from '../../shared/time.ts';
import type { TelemetryIngest } from './ingest.ts';
import type { GatewayMetrics } from './metrics.ts';
import { defineSource, type RunningSource } from './source.ts';
import { readSettingFile } from '../../shared/config-error.ts';

export interface ChirpstackSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** PEM CA to verify an mqtts:// broker by. */
  ca?: Buffer | undefined;
  topic: string;
  clientId: string;
  /** ChirpStack tenant (id or name) → municipality; empty = not checked. */
  tenants: Record<string, string>;
}

export type UplinkRoute = { ok: true; device: DeviceRecord; dedupId: string | undefined } | { ok: false; rejection: Rejection; deviceId?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Which registered device an uplink event belongs to. Pure apart from the registry lookup; total. */
export function routeUplink(payload: Buffer, topic: string, registry: Pick<DeviceRegistry, 'byDevEui'>, tenants: Record<string, string>): UplinkRoute {
  let event: unknown;
  try {
    event = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, rejection: { code: REJECT.PAYLOAD_NOT_JSON, field: 'payload', reason: 'payload: not JSON (a ChirpStack uplink event is JSON; is the integration set to Protobuf?)' } };
  }
  if (!isObject(event)) return { ok: false, rejection: { code: REJECT.PAYLOAD_UNKNOWN_FORMAT, field: 'payload', reason: 'payload: not a ChirpStack uplink event (a JSON object expected)' } };
  const info = isObject(event.deviceInfo) ? event.deviceInfo : {};
  // The topic names the DevEUI too; the event's own field is the one ChirpStack documents.
  const devEui = info.devEui ?? /\/device\/([0-9a-fA-F]{16})\/event\/up$/.exec(topic)?.[1];
  if (devEui === undefined) return { ok: false, rejection: { code: REJECT.UNKNOWN_DEVICE, field: 'deviceInfo.devEui', reason: 'deviceInfo.devEui: missing' } };
  // The one identifier check of every source, before any lookup or reason shows them.
  const bad = checkDevEui('deviceInfo.devEui', devEui) ?? checkForeignId('deviceInfo.tenantId', info.tenantId) ?? checkForeignId('deviceInfo.tenantName', info.tenantName);
  if (bad || typeof devEui !== 'string') return { ok: false, rejection: bad! };
  const device = registry.byDevEui(devEui);
  if (!device) return { ok: false, rejection: { code: REJECT.UNKNOWN_DEVICE, field: 'deviceInfo.devEui', reason: `deviceInfo.devEui: no active registered device has DevEUI ${devEui} (register it with npm run devices -- add … --dev-eui)` } };
  if (Object.keys(tenants).length > 0) {
    const tenant = [str(info.tenantId), str(info.tenantName)].find((t) => t !== undefined && Object.hasOwn(tenants, t));
    const municipality = tenant === undefined ? undefined : tenants[tenant];
    if (municipality !== device.municipality) {
      const reason = `deviceInfo.tenantId: tenant ${str(info.tenantName) ?? str(info.tenantId) ?? '(none)'} maps to ${municipality ?? 'no municipality'}, but DevEUI ${devEui} is ${device.id} of ${device.municipality}`;
      return { ok: false, deviceId: device.id, rejection: { code: REJECT.TENANT_MISMATCH, field: 'deviceInfo.tenantId', reason } };
    }
  }
  return { ok: true, device, dedupId: str(event.deduplicationId) };
}

/** The last `size` ids seen, oldest forgotten first. */
class RecentIds {
  private readonly ids = new Set<string>();
  private readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  /** True when `id` was seen already; remembers it otherwise. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.size) this.ids.delete(this.ids.values().next().value!);
    return false;
  }
}

export interface ChirpstackSource {
  /** Connected, with the uplink subscription in place (from this connection or the kept session). */
  subscribed(): boolean;
  close(): Promise<void>;
}

export interface RunningChirpstack extends RunningSource {
  /** Connected, with the uplink subscription in place. */
  subscribed(): boolean;
}

/** LoRaWAN devices through ChirpStack's MQTT integration: on when CHIRPSTACK_MQTT_URL is set. */
export const chirpstackSource = defineSource({
  name: 'chirpstack',
  enabled: (cfg) => Boolean(cfg.CHIRPSTACK_MQTT_URL),
  async start(ctx): Promise<RunningChirpstack> {
    const { cfg } = ctx;
    const settings: ChirpstackSettings = {
      url: cfg.CHIRPSTACK_MQTT_URL!,
      username: cfg.CHIRPSTACK_MQTT_USERNAME,
      password: cfg.CHIRPSTACK_MQTT_PASSWORD,
      ca: cfg.CHIRPSTACK_MQTT_CA ? readSettingFile('CHIRPSTACK_MQTT_CA', cfg.CHIRPSTACK_MQTT_CA) : undefined,
      topic: cfg.CHIRPSTACK_TOPIC,
      clientId: cfg.CHIRPSTACK_CLIENT_ID ?? `smartcity-${cfg.GATEWAY_ID}`,
      tenants: cfg.CHIRPSTACK_TENANT_MAP,
    };
    const s = startChirpstackSource(settings, { ...ctx, log: ctx.log.child({ component: 'chirpstack' }), maxPayloadBytes: cfg.MAX_PAYLOAD_BYTES });
    // Its client is closed first: no uplink is taken while the forwarder drains.
    return { subscribed: () => s.subscribed(), describe: { chirpstackTopic: cfg.CHIRPSTACK_TOPIC }, stopTaking: () => s.close(), close: async () => undefined };
  },
});

export interface ChirpstackDeps {
  registry: DeviceRegistry;
  ingest: TelemetryIngest;
  limiter: RateLimiter;
  deadLetter: (dl: DeadLetterInput) => Promise<void>;
  metrics: GatewayMetrics;
  log: Logger;
  /** The size limit every source has (MAX_PAYLOAD_BYTES): a larger event is dead-lettered without its body. */
  maxPayloadBytes: number;
  refusalLog: SampledLog;
}

export function startChirpstackSource(s: ChirpstackSettings, d: ChirpstackDeps): ChirpstackSource {
  const source = 'chirpstack' as const;
  const recent = new RecentIds(100_000);
  let stopping = false;
  let subscribed = false;
  const client: MqttClient = mqtt.connect(s.url, {
    clientId: s.clientId,
    clean: false,
    username: s.username,
    password: s.password,
    reconnectPeriod: 1000,
    resubscribe: true,
    ...(s.ca ? { ca: s.ca } : {}),
  });

  /** Until it works or the source stops: an event is never acknowledged before it is kept. */
  async function untilDone(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (stopping) throw err;
        d.log.warn({ source, attempt, err: (err as Error).message }, `${what} failed; retrying before acknowledging`);
        await sleep(backoffMs(attempt + 1, 5000, 100));
      }
    }
  }

  async function handle(topic: string, payload: Buffer): Promise<void> {
    d.registry.reload();
    const tooLarge = checkSize(payload.length, d.maxPayloadBytes);
    const route: UplinkRoute = tooLarge ? { ok: false, rejection: tooLarge } : routeUplink(payload, topic, d.registry, s.tenants);
    if (!route.ok) {
      d.metrics.publishes.inc({ result: 'refused', reason: route.rejection.code, kind: 'unknown', source });
      d.refusalLog.warn(route.rejection.code, { source, code: route.rejection.code, reason: route.rejection.reason }, 'uplink dead-lettered');
      const original = tooLarge ? { original: '', omittedBytes: payload.length } : { original: payload.toString('utf8') };
      const dl: DeadLetterInput = { rejections: [route.rejection], deviceId: route.deviceId, source: { listener: source }, ...original };
      return untilDone('dead letter', () => d.deadLetter(dl));
    }
    const { device } = route;
    if (route.dedupId && recent.seen(route.dedupId)) {
      d.metrics.publishes.inc({ result: 'refused', reason: 'duplicate', kind: device.kind, source });
      return;
    }
    // Over the device's rate, the acknowledgement waits (the broker holds the rest): backpressure.
    const waitMs = d.limiter.reserve(device.id);
    if (waitMs > 0) {
      d.metrics.backpressureWaits.inc({ kind: device.kind });
      await sleep(waitMs);
    }
    await untilDone('forward', () => d.ingest.forward({ municipality: device.municipality, kind: device.kind, deviceId: device.id }, payload, source));
    d.metrics.publishes.inc({ result: 'accepted', reason: 'telemetry', kind: device.kind, source });
  }

  // mqtt.js acknowledges a QoS 1 message once this calls back, and hands over the next only then.
  client.handleMessage = (packet, callback) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    handle(packet.topic, payload).then(
      () => callback(),
      (err: Error) => callback(err),
    );
  };
  client.on('connect', (ack) => {
    d.log.info({ source, url: s.url, clientId: s.clientId, sessionPresent: ack.sessionPresent }, 'connected to the ChirpStack broker');
    subscribed = ack.sessionPresent;
    if (!ack.sessionPresent) {
      client.subscribe(s.topic, { qos: 1 }, (err, granted) => {
        if (err || granted?.some((g) => g.qos > 2)) return d.log.error({ source, topic: s.topic, err: err?.message ?? 'refused by the broker' }, 'subscription refused');
        subscribed = true;
        d.log.info({ source, topic: s.topic }, 'subscribed');
      });
    }
  });
  client.on('close', () => (subscribed = false));
  client.on('error', (err) => d.log.warn({ source, err: err.message }, 'ChirpStack broker connection error'));

  return {
    subscribed: () => client.connected && subscribed,
    async close() {
      stopping = true;
      // Without acknowledging what is in hand: the broker delivers it again to the next session.
      await client.endAsync(true);
    },
  };
}
