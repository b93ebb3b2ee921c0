/**
 * HTTP ingest, served by the gateway on HTTP_INGEST_PORT, for devices that post rather than
 * publish (cellular trackers, NB-IoT meters):
 *
 *   POST /ingest/v1/{municipality}/{kind}/{deviceId}
 *   Authorization: Bearer <device secret>  |  Basic base64(deviceId:secret)
 *   body: the same payloads as MQTT (native JSON reading(s) or SenML)
 *
 * The device's rules are the MQTT ones — the same login (throttle included), its own address
 * only, MAX_PAYLOAD_BYTES, the same per-device rate — and so is the path onto the bus. Unlike a
 * PUBACK, an answer can say why: the payload is checked with the normaliser's own rules first, so
 * a bad one gets a 400 naming the field, and nothing of it is stored. Answers:
 * 202 on the bus (or the spool) · 400 payload · 401 credentials · 403 not this device's address
 * or revoked · 413 too large · 429 rate or login throttle (Retry-After) · 503 neither the bus nor
 * the spool can take it.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import type { DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { checkDeviceId } from '../../shared/schemas/identifiers.ts';
import type { ConnectionBudget } from '../../shared/net/connection-budget.ts';
import { budgetConnections, httpServerOptions, type HttpTimeouts } from '../../shared/net/http-limits.ts';
import type { SampledLog } from '../../shared/sampled-log.ts';
import { REJECT } from '../../shared/schemas/rejections.ts';
import type { Logger } from '../../shared/logging.ts';
import type { RateLimiter } from '../../shared/rate-limit.ts';
import { rawEnvelope, type Source } from '../../shared/schemas/envelope.ts';
import { kindSchema, type DeviceAddress } from '../../shared/schemas/topics.ts';
import { normalizeRecord } from '../normalizer/normalize.ts';
import type { Authenticator } from './authenticator.ts';
import type { TelemetryIngest } from './ingest.ts';
import { deviceLogin } from './login.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { GatewayMetrics } from './metrics.ts';
import { CONNECT_REFUSAL, PUBLISH_REFUSAL, type ConnectRefusal } from './refusals.ts';
import { defineSource, type RunningSource } from './source.ts';
import { routeTtsUplink } from './tts-uplink.ts';

export interface HttpIngestDeps {
  gatewayId: string;
  maxPayloadBytes: number;
  /** How far ahead of this clock a reading may be dated (the normaliser's MAX_FUTURE_MS). */
  maxFutureMs: number;
  auth: Authenticator;
  throttle: LoginThrottle;
  limiter: RateLimiter;
  ingest: TelemetryIngest;
  metrics: GatewayMetrics;
  log: Logger;
  registry: DeviceRegistry;
  /** The Things Stack webhook's shared secret; unset, the webhook is off (404). */
  ttsWebhookSecret?: string | undefined;
  /** TTS application id → municipality (TTS_APPLICATION_MAP); empty = not checked. */
  ttsApplications?: Record<string, string>;
  /** Puts a dead letter on the bus; rejects when it cannot. */
  deadLetter: (d: DeadLetterInput) => Promise<void>;
  /** Where refusals are logged: rate-limited per source. */
  refusalLog: SampledLog;
  /** The gateway's connection budget, shared with MQTT. */
  budget?: ConnectionBudget;
  /** A request's headers, and the whole request, must arrive within these. */
  timeouts?: HttpTimeouts;
}

const sameSecret = (given: string | undefined, expected: string) => {
  const a = Buffer.from(given ?? '', 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Credentials from the Authorization header: Bearer carries the secret, Basic the id and the secret. */
export function credentialsOf(header: string | undefined, pathDevice: string): { username: string; password: Buffer } | { mismatch: true } | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return { username: pathDevice, password: Buffer.from(value, 'utf8') };
  if (scheme?.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  if (decoded.slice(0, colon) !== pathDevice) return { mismatch: true };
  return { username: pathDevice, password: Buffer.from(decoded.slice(colon + 1), 'utf8') };
}

const LOGIN_STATUS: Record<ConnectRefusal, number> = {
  no_credentials: 401,
  unknown_device: 401,
  bad_secret: 401,
  revoked: 403,
  client_id_mismatch: 403,
  too_many_sessions: 429,
  throttled: 429,
  bad_certificate: 401,
};

export interface HttpIngestSource extends RunningSource {
  port: number;
}

/** Devices over HTTP, and The Things Stack's webhook (when its secret is set): always on. */
export const httpIngestSource = defineSource({
  name: 'http-ingest',
  enabled: () => true,
  async start(ctx): Promise<HttpIngestSource> {
    const { cfg } = ctx;
    const app = buildHttpIngest({
      ...ctx,
      gatewayId: cfg.GATEWAY_ID,
      maxPayloadBytes: cfg.MAX_PAYLOAD_BYTES,
      maxFutureMs: cfg.MAX_FUTURE_MS,
      auth: ctx.authenticator,
      log: ctx.log.child({ component: 'http-ingest' }),
      ttsWebhookSecret: cfg.TTS_WEBHOOK_SECRET,
      ttsApplications: cfg.TTS_APPLICATION_MAP,
      timeouts: { requestMs: cfg.HTTP_REQUEST_TIMEOUT_MS, headersMs: cfg.HTTP_HEADERS_TIMEOUT_MS },
    });
    await app.listen({ port: cfg.HTTP_INGEST_PORT, host: cfg.HTTP_INGEST_HOST });
    const port = (app.server.address() as { port: number }).port;
    // Closing stops new requests at once and resolves when those in flight have been answered.
    let closed: Promise<void> | undefined;
    return { port, describe: { httpIngestPort: port }, stopTaking: () => void (closed = app.close()), close: () => closed ?? app.close() };
  },
});

export function buildHttpIngest(d: HttpIngestDeps): FastifyInstance {
  // Slow senders are timed out and idle keep-alive connections closed (http-limits.ts), so held-open
  // requests cannot pile up file descriptors.
  const app = Fastify({ logger: false, bodyLimit: d.maxPayloadBytes, ...httpServerOptions(d.timeouts) });
  const budget = d.budget;
  if (budget) {
    budgetConnections(app.server, budget);
    app.addHook('onResponse', async (req) => budget.unsettle(req.socket));
  }
  // The body is kept as the bytes received: the envelope carries them unparsed, like an MQTT payload.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const fail = (reply: FastifyReply, status: number, body: Record<string, unknown>) => reply.code(status).send(body);

  /**
   * The device's rate, then the bus: true once the record is kept (counted as accepted), else the
   * reply sent. No held socket to slow down over HTTP: over its rate, a sender is told when to
   * come back (429, Retry-After); when neither the bus nor the spool can keep it, 503.
   */
  async function rateAndForward(reply: FastifyReply, device: DeviceAddress, body: Buffer, source: Source): Promise<true | FastifyReply> {
    const count = (result: 'accepted' | 'refused', reason: string) => d.metrics.publishes.inc({ result, reason, kind: device.kind, source });
    const waitMs = d.limiter.reserve(device.deviceId);
    if (waitMs > 0) {
      d.limiter.release(device.deviceId);
      count('refused', PUBLISH_REFUSAL.RATE_LIMITED);
      d.refusalLog.warn(`rate|${device.deviceId}`, { device: device.deviceId, source, waitMs }, 'ingest refused: over the device rate');
      return fail(reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000)))), 429, { error: PUBLISH_REFUSAL.RATE_LIMITED });
    }
    try {
      await d.ingest.forward(device, body, source);
    } catch (err) {
      count('refused', PUBLISH_REFUSAL.NOT_DURABLE);
      d.log.warn({ device: device.deviceId, source, err: (err as Error).message }, 'ingest refused: not stored');
      return fail(reply, 503, { error: PUBLISH_REFUSAL.NOT_DURABLE, reason: `not stored: ${(err as Error).message}` });
    }
    count('accepted', 'telemetry');
    return true;
  }

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return fail(reply, 413, { error: PUBLISH_REFUSAL.PAYLOAD_TOO_LARGE, reason: `the body is larger than ${d.maxPayloadBytes} bytes` });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) d.log.error({ err: err.message }, 'ingest request failed');
    return fail(reply, status, { error: status === 500 ? 'internal' : 'bad_request', reason: status === 500 ? 'internal error' : err.message });
  });

  app.post<{ Params: { municipality: string; kind: string; deviceId: string } }>('/ingest/v1/:municipality/:kind/:deviceId', async (req, reply) => {
    const { municipality, kind, deviceId } = req.params;
    const source: Source = 'http';
    const refused = (status: number, reason: string, extra: Record<string, unknown> = {}) => {
      d.refusalLog.warn(`${reason}|${req.ip}`, { device: deviceId, source, status, reason, remote: req.ip, ...extra }, 'ingest refused');
      return fail(reply, status, { error: reason, ...extra });
    };
    // The one identifier check, before the login looks anything up (and before any log line shows it).
    const badId = checkDeviceId('deviceId', deviceId);
    if (badId) {
      d.refusalLog.warn(`id|${req.ip}`, { source, remote: req.ip, reason: badId.reason }, 'ingest refused');
      return fail(reply, 400, { error: badId.code, field: badId.field, reason: badId.reason });
    }
    const loginRefused = (reason: ConnectRefusal, retryInMs?: number) => {
      d.metrics.authFailures.inc({ reason, source });
      if (retryInMs !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(retryInMs / 1000))));
      if (LOGIN_STATUS[reason] === 401) void reply.header('www-authenticate', 'Bearer realm="ingest", Basic realm="ingest"');
      return refused(LOGIN_STATUS[reason], reason);
    };

    const creds = credentialsOf(req.headers.authorization, deviceId);
    if (!creds) return loginRefused(CONNECT_REFUSAL.NO_CREDENTIALS);
    if ('mismatch' in creds) return loginRefused(CONNECT_REFUSAL.CLIENT_ID_MISMATCH);
    const login = await deviceLogin(d.auth, d.throttle, creds.username, creds.password, req.ip);
    if (!login.ok) return loginRefused(login.reason, login.retryInMs);
    budget?.settle(req.socket);

    const device: DeviceAddress = { municipality: login.device.municipality, kind: login.device.kind, deviceId: login.device.id };
    const count = (result: 'accepted' | 'refused', reason: string) => d.metrics.publishes.inc({ result, reason, kind: device.kind, source });
    if (!kindSchema.safeParse(kind).success || municipality !== device.municipality || kind !== device.kind) {
      count('refused', PUBLISH_REFUSAL.TOPIC_NOT_OWN);
      return refused(403, PUBLISH_REFUSAL.TOPIC_NOT_OWN, { reason: `device ${deviceId} is registered as ${device.municipality}/${device.kind}` });
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

    // The normaliser's rules, here so the device hears what is wrong (it re-checks on the bus).
    const check = normalizeRecord(JSON.stringify(rawEnvelope(d.gatewayId, device, body, source, Date.now())), { maxFutureMs: d.maxFutureMs, attributesOf: () => ({}) });
    if (check.rejections.length > 0) {
      const first = check.rejections[0]!;
      count('refused', first.code);
      return refused(400, first.code, { field: first.field, reason: first.reason, rejections: check.rejections.slice(0, 20), rejectionCount: check.rejections.length });
    }

    const kept = await rateAndForward(reply, device, body, source);
    if (kept !== true) return kept;
    return reply.code(202).send({ status: 'accepted', readings: check.readings.length });
  });

  app.post('/ingest/tts/v3/uplink', async (req, reply) => {
    const source: Source = 'tts';
    if (d.ttsWebhookSecret === undefined) return fail(reply, 404, { error: 'not_configured', reason: 'the TTS webhook is off (TTS_WEBHOOK_SECRET is not set)' });
    const header = req.headers['x-webhook-secret'];
    if (!sameSecret(Array.isArray(header) ? header[0] : header, d.ttsWebhookSecret)) {
      d.metrics.authFailures.inc({ reason: CONNECT_REFUSAL.BAD_SECRET, source });
      d.refusalLog.warn(`secret|${req.ip}`, { source, remote: req.ip }, 'webhook refused: wrong or missing X-Webhook-Secret');
      return fail(reply, 401, { error: CONNECT_REFUSAL.BAD_SECRET, reason: 'X-Webhook-Secret does not match TTS_WEBHOOK_SECRET' });
    }
    // The network server has proved itself: its (keep-alive) connection is logged in, like a device's.
    d.budget?.settle(req.socket);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let uplink: unknown;
    try {
      uplink = JSON.parse(body.toString('utf8'));
    } catch {
      return fail(reply, 400, { error: REJECT.PAYLOAD_NOT_JSON, field: 'payload', reason: 'payload: not JSON' });
    }
    d.registry.reload();
    const route = routeTtsUplink(uplink, d.registry, d.ttsApplications ?? {});
    if (!route.ok) {
      const { rejection } = route;
      d.metrics.publishes.inc({ result: 'refused', reason: rejection.code, kind: 'unknown', source });
      d.refusalLog.warn(`${rejection.code}|${req.ip}`, { source, code: rejection.code, reason: rejection.reason }, 'uplink dead-lettered');
      try {
        await d.deadLetter({ rejections: [rejection], deviceId: route.deviceId, source: { listener: source }, original: body.toString('utf8') });
      } catch (err) {
        return fail(reply, 503, { error: PUBLISH_REFUSAL.NOT_DURABLE, reason: `not stored: ${(err as Error).message}` });
      }
      // An unknown device is answered 202 (TTS need not retry: the event is in the dead letters);
      // an event that contradicts the registry, or carries impossible identifiers, is refused.
      if (rejection.code === REJECT.UNKNOWN_DEVICE) return reply.code(202).send({ status: 'dead-lettered', reason: rejection.reason });
      const status = rejection.code === REJECT.IDENTIFIER_INVALID || rejection.code === REJECT.PAYLOAD_UNKNOWN_FORMAT ? 400 : 403;
      return fail(reply, status, { error: rejection.code, field: rejection.field, reason: rejection.reason, status: 'dead-lettered' });
    }
    const { device } = route;
    const address: DeviceAddress = { municipality: device.municipality, kind: device.kind, deviceId: device.id };
    const kept = await rateAndForward(reply, address, body, source);
    if (kept !== true) return kept;
    return reply.code(202).send({ status: 'accepted', device: address.deviceId });
  });

  return app;
}
