/**
 * The edge gateway: an aedes broker whose hooks carry the project's rules.
 *   connect:   authenticate (registry) → client id must belong to the device
 *   publish:   own topic? → payload size → rate limit → telemetry: envelope → Kafka/spool → PUBACK
 *   subscribe: only the device's own `cmd/#`
 * Registry changes apply at once: revoked devices are disconnected.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Bus, BusProducer } from '../../shared/bus/bus.ts';
import { DeadLetterBudget, deadLetter, type DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import type { Logger } from '../../shared/logging.ts';
import { DeviceRegistry, defaultRegistryPath, type DeviceRecord } from '../../shared/registry/device-registry.ts';
import type { DeviceAddress } from '../../shared/schemas/topics.ts';
import { clientIdMatches, decidePublish, decideSubscribe } from './access.ts';
import { Authenticator } from './authenticator.ts';
import type { GatewayConfig } from './config.ts';
import { Forwarder } from './forwarder.ts';
import { CONNACK_CODE, CONNECT_REFUSAL, PUBLISH_REFUSAL, type ConnectRefusal, type PublishRefusal } from './refusals.ts';
import { LoginThrottle } from './login-throttle.ts';
import { deviceLogin } from './login.ts';
import { TelemetryIngest } from './ingest.ts';
import { buildHttpIngest } from './http-ingest.ts';
import { startChirpstackSource, type ChirpstackSource } from './chirpstack-source.ts';
import { certificateLogin, clientCertificateOf } from './client-certificate.ts';
import { GuardedConnection, PacketSizeGuard } from './packet-guard.ts';
import type { GatewayMetrics } from './metrics.ts';
import { RateLimiter } from '../../shared/rate-limit.ts';
import { SampledLog } from '../../shared/sampled-log.ts';
import { ConnectionBudget } from '../../shared/net/connection-budget.ts';
import { connectionCap, raiseOpenFileLimit } from '../../shared/net/file-limit.ts';
import { DeviceConnections } from './device-connections.ts';
import { SessionExpiry } from './sessions.ts';
import { Spool } from './spool.ts';

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

const authError = (message: string, returnCode: 4 | 5): AuthenticateError =>
  Object.assign(new Error(message), { returnCode });

export async function startGateway(cfg: GatewayConfig, deps: { bus: Bus; log: Logger; metrics: GatewayMetrics }): Promise<Gateway> {
  const { bus, log, metrics } = deps;
  // Lines that anyone can cause (refusals) are rate-limited per source and in total.
  const refusalLog = new SampledLog(log, undefined, (msg) => metrics.logLinesSuppressed.inc({ message: msg }));
  // Every socket is a file descriptor: the budget keeps connections below the file limit, with
  // room for the spool, the log and the bus (file-limit.ts, connection-budget.ts).
  const fileLimit = raiseOpenFileLimit();
  const maxTotal = connectionCap(cfg.MAX_CONNECTIONS, fileLimit, cfg.FILE_DESCRIPTOR_RESERVE);
  const budget = new ConnectionBudget(
    { maxTotal, maxPendingPerAddress: cfg.MAX_PENDING_CONNECTIONS_PER_ADDRESS || Math.max(128, Math.floor(maxTotal / 8)), pendingTimeoutMs: cfg.LOGIN_TIMEOUT_MS },
    (e) => {
      const reason = e.event === 'refused' ? `budget_${e.reason}` : e.event === 'evicted' ? 'evicted_for_room' : 'login_timeout';
      metrics.connectionsCut.inc({ reason });
      refusalLog.warn(`${reason}|${e.remote}`, { remote: e.remote, reason }, 'connection closed by the connection budget');
    },
  );
  const registry = new DeviceRegistry(cfg.DEVICE_REGISTRY ?? defaultRegistryPath(cfg.DATA_DIR));
  const authenticator = new Authenticator(registry);
  const limiter = new RateLimiter(cfg.DEVICE_RATE_LIMIT, cfg.DEVICE_RATE_BURST);
  const throttle = new LoginThrottle({ freeFailures: cfg.LOGIN_FREE_FAILURES, freeFailuresPerAddress: cfg.LOGIN_FREE_FAILURES_PER_ADDRESS, maxBlockMs: cfg.LOGIN_MAX_BLOCK_MS, concurrent: cfg.LOGIN_CONCURRENT_CHECKS, queue: cfg.LOGIN_QUEUE });
  const packetLimits = { connectBytes: cfg.MQTT_MAX_CONNECT_BYTES, packetBytes: cfg.MQTT_MAX_PACKET_BYTES || cfg.MAX_PAYLOAD_BYTES + 4096 };
  const spool = await Spool.open(cfg.SPOOL_DIR ?? join(cfg.DATA_DIR, 'gateway-spool', cfg.GATEWAY_ID), {
    maxBytes: cfg.SPOOL_MAX_BYTES,
    segmentBytes: cfg.SPOOL_SEGMENT_BYTES,
    fsyncDelayMs: cfg.SPOOL_FSYNC_MAX_DELAY_MS,
  });
  const forwarder = new Forwarder(
    bus,
    spool,
    { topic: cfg.TOPIC_RAW, lingerMs: cfg.BUS_LINGER_MS, batchMax: cfg.BUS_BATCH_MAX, sendTimeoutMs: cfg.BUS_SEND_TIMEOUT_MS },
    metrics,
    log.child({ component: 'forwarder' }),
  );
  const ingest = new TelemetryIngest(cfg.GATEWAY_ID, forwarder);
  metrics.spoolProbe.records = () => spool.depthRecords;
  metrics.spoolProbe.bytes = () => spool.depthBytes;

  /** The device behind each authenticated client. */
  const devices = new WeakMap<Client, DeviceAddress>();
  const open = new DeviceConnections<Client>((delta) => metrics.connectedDevices.inc(delta));

  const broker = await Aedes.createBroker({
    id: cfg.GATEWAY_ID,
    maxInflightInbound: cfg.MQTT_MAX_INFLIGHT_INBOUND,
    authenticate: (client, username, password, done) => {
      const refuse = (reason: ConnectRefusal, extra: Record<string, unknown> = {}) => {
        metrics.authFailures.inc({ reason, source: 'mqtt' });
        refusalLog.warn(`${reason}|${remoteOf(client)}`, { device: boundedId(username), clientId: boundedId(client.id), reason, remote: remoteOf(client), ...extra }, 'connection refused');
        done(authError(reason, CONNACK_CODE[reason]), false);
      };
      const admit = (device: DeviceRecord) => {
        if (cfg.MQTT_REQUIRE_CLIENT_ID_MATCH && !clientIdMatches(client.id, device.id)) return refuse(CONNECT_REFUSAL.CLIENT_ID_MISMATCH);
        // Counted by open sockets; a reconnect under the same client id replaces its old session.
        if (open.othersThan(device.id, client.id) >= cfg.MAX_SESSIONS_PER_DEVICE) return refuse(CONNECT_REFUSAL.TOO_MANY_SESSIONS, { max: cfg.MAX_SESSIONS_PER_DEVICE });
        const conn = client.conn as unknown as GuardedConnection;
        devices.set(client, { municipality: device.municipality, kind: device.kind, deviceId: device.id });
        open.add(device.id, { client, clientId: client.id, conn });
        budget.settle(conn.socket);
        // From now on its publishes are paced on the wire, before they are parsed (packet-guard.ts).
        conn.pacer = () => limiter.takeOrWait(device.id);
        conn.onPaced = (waitMs) => {
          metrics.backpressureWaits.inc({ kind: device.kind });
          metrics.backpressureSeconds.inc(waitMs / 1000);
        };
        done(null, true);
      };
      // A device certificate (mutual TLS) is the whole login: no password, no throttle (no guessing).
      const certificate = (client.conn as Partial<GuardedConnection>).clientCertificate;
      if (certificate) {
        const r = certificateLogin(certificate, registry, username);
        return r.ok ? admit(r.device) : refuse(r.reason, { certificate: r.detail });
      }
      deviceLogin(authenticator, throttle, username, password, remoteOf(client)).then(
        (r) => {
          if (!r.ok) return refuse(r.reason, r.retryInMs === undefined ? {} : { retryInMs: r.retryInMs });
          admit(r.device);
        },
        (err: Error) => {
          log.error({ err: err.message, device: username }, 'authentication error');
          done(authError('server error', 5), false);
        },
      );
    },
    authorizePublish: (client, packet, done) => {
      const device = client ? devices.get(client) : undefined;
      if (!client || !device) return done(); // the broker's own messages ($SYS etc.)
      const refuse = (reason: PublishRefusal, extra: Record<string, unknown> = {}) => {
        metrics.publishes.inc({ result: 'refused', reason, kind: device.kind, source: 'mqtt' });
        refusalLog.warn(`${reason}|${device.deviceId}`, { device: device.deviceId, topic: boundedId(packet.topic), qos: packet.qos, reason, ...extra }, 'publish refused');
        done(new Error(reason));
      };
      const decision = decidePublish(device, packet.topic);
      if (!decision.allowed) return refuse(decision.reason);
      const size = packet.payload.length;
      if (size > cfg.MAX_PAYLOAD_BYTES) return refuse(PUBLISH_REFUSAL.PAYLOAD_TOO_LARGE, { bytes: size, max: cfg.MAX_PAYLOAD_BYTES });
      // The device's rate was applied on the wire: this publish was read only once its token was there.
      accept(device, packet, decision.channel, done, refuse);
    },
    authorizeSubscribe: (client, sub, done) => {
      const device = devices.get(client);
      if (device && decideSubscribe(device, sub.topic)) return done(null, sub);
      metrics.subscribeRefused.inc();
      refusalLog.warn(`subscribe|${device?.deviceId ?? ''}`, { device: device?.deviceId, topic: boundedId(sub.topic) }, 'subscription refused');
      done(null, null); // SUBACK with the failure code; the connection stays up
    },
  });

  /** A publish that passed the topic, size and rate checks: status goes through, telemetry onto the bus first. */
  function accept(device: DeviceAddress, packet: PublishPacket, channel: 'telemetry' | 'status', done: (err?: Error | null) => void, refuse: (reason: PublishRefusal, extra?: Record<string, unknown>) => void): void {
    if (channel === 'status') {
      metrics.publishes.inc({ result: 'accepted', reason: 'status', kind: device.kind, source: 'mqtt' });
      return done();
    }
    packet.retain = false; // telemetry is a stream, not state
    forwardTelemetry(device, packet).then(
      () => {
        metrics.publishes.inc({ result: 'accepted', reason: 'telemetry', kind: device.kind, source: 'mqtt' });
        done();
      },
      (err: Error) => {
        if (packet.qos === 0) {
          // No PUBACK to withhold: count the loss instead of closing the connection.
          metrics.qos0Overflow.inc();
          return done();
        }
        refuse(PUBLISH_REFUSAL.NOT_DURABLE, { err: err.message });
      },
    );
  }

  function forwardTelemetry(device: DeviceAddress, packet: PublishPacket): Promise<void> {
    return ingest.forward(device, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), 'mqtt');
  }

  const sessions = new SessionExpiry({ expiryMs: cfg.MQTT_SESSION_EXPIRY_MS, maxPerDevice: cfg.MAX_SESSIONS_PER_DEVICE }, (clientId) => {
    const gone = { id: clientId };
    // Not in aedes's typings, but its documented persistence interface (aedes-persistence).
    const persistence = (broker as unknown as { persistence: { cleanSubscriptions(c: { id: string }): Promise<unknown>; cleanIncoming(c: { id: string }): Promise<unknown> } }).persistence;
    void Promise.all([persistence.cleanSubscriptions(gone), persistence.cleanIncoming(gone)]).catch((err: Error) => log.warn({ clientId, err: err.message }, 'could not forget a session'));
    log.info({ clientId }, 'persistent session expired');
  });

  broker.on('clientReady', (client) => {
    const device = devices.get(client);
    if (device) sessions.connected(device.deviceId, client.id, client.clean);
  });
  broker.on('clientDisconnect', (client) => {
    const device = devices.get(client);
    if (device) sessions.disconnected(device.deviceId, client.id);
  });
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
  broker.on('connectionError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'connection error'));

  const unwatch = registry.watch(() => {
    authenticator.invalidate();
    for (const deviceId of open.devices()) {
      if (registry.active(deviceId)) continue;
      log.warn({ device: deviceId }, 'device revoked or removed: disconnecting');
      for (const c of open.clientsOf(deviceId)) c.close();
    }
  });

  forwarder.start();

  // Every connection passes the packet-size guard before aedes's parser sees a byte.
  const guarded = (socket: Socket) => {
    if (!budget.admit(socket)) return;
    const conn = new GuardedConnection(socket, new PacketSizeGuard(packetLimits), (v) => {
      metrics.connectionsCut.inc({ reason: v.reason });
      refusalLog.warn(`${v.reason}|${socket.remoteAddress}`, { remote: socket.remoteAddress, ...v }, 'connection cut on the wire');
    });
    if (socket instanceof TLSSocket && cfg.MQTT_TLS_CA) conn.clientCertificate = clientCertificateOf(socket);
    broker.handle(conn);
  };
  const tcp = createServer(guarded);
  await listen(tcp, cfg.MQTT_PORT, cfg.MQTT_HOST);
  let tls: Server | undefined;
  if (cfg.MQTT_TLS_CERT && cfg.MQTT_TLS_KEY) {
    // With a device CA, ask every client for a certificate but let those without one log in by password.
    const mutual = cfg.MQTT_TLS_CA ? { ca: readFileSync(cfg.MQTT_TLS_CA), requestCert: true, rejectUnauthorized: false } : {};
    tls = createTlsServer({ cert: readFileSync(cfg.MQTT_TLS_CERT), key: readFileSync(cfg.MQTT_TLS_KEY), ...mutual }, guarded);
    await listen(tls, cfg.MQTTS_PORT, cfg.MQTT_HOST);
  }
  const mqttPort = (tcp.address() as { port: number }).port;
  const mqttsPort = tls ? (tls.address() as { port: number }).port : undefined;
  // Dead letters of ingest (uplinks no registered device owns), produced when the first one comes.
  let deadLetterProducer: Promise<BusProducer> | undefined;
  const deadLetterBudget = new DeadLetterBudget(4096, 256 * 1024);
  const sendDeadLetter = async (d: DeadLetterInput) => {
    deadLetterProducer ??= bus.producer({ failFast: true }).catch((err: unknown) => {
      deadLetterProducer = undefined;
      throw err;
    });
    await (await deadLetterProducer).send(cfg.TOPIC_DEADLETTER, [deadLetter(d, deadLetterBudget).message]);
  };
  const http = buildHttpIngest({
    gatewayId: cfg.GATEWAY_ID,
    maxPayloadBytes: cfg.MAX_PAYLOAD_BYTES,
    maxFutureMs: cfg.MAX_FUTURE_MS,
    auth: authenticator,
    throttle,
    limiter,
    ingest,
    metrics,
    log: log.child({ component: 'http-ingest' }),
    registry,
    ttsWebhookSecret: cfg.TTS_WEBHOOK_SECRET,
    ttsApplications: cfg.TTS_APPLICATION_MAP,
    deadLetter: sendDeadLetter,
    refusalLog,
    budget,
    timeouts: { requestMs: cfg.HTTP_REQUEST_TIMEOUT_MS, headersMs: cfg.HTTP_HEADERS_TIMEOUT_MS },
  });
  await http.listen({ port: cfg.HTTP_INGEST_PORT, host: cfg.HTTP_INGEST_HOST });
  const chirpstack = cfg.CHIRPSTACK_MQTT_URL
    ? startChirpstackSource(
        { url: cfg.CHIRPSTACK_MQTT_URL, username: cfg.CHIRPSTACK_MQTT_USERNAME, password: cfg.CHIRPSTACK_MQTT_PASSWORD, ca: cfg.CHIRPSTACK_MQTT_CA ? readFileSync(cfg.CHIRPSTACK_MQTT_CA) : undefined, topic: cfg.CHIRPSTACK_TOPIC, clientId: cfg.CHIRPSTACK_CLIENT_ID ?? `smartcity-${cfg.GATEWAY_ID}`, tenants: cfg.CHIRPSTACK_TENANT_MAP },
        { registry, ingest, limiter, deadLetter: sendDeadLetter, metrics, log: log.child({ component: 'chirpstack' }), maxPayloadBytes: cfg.MAX_PAYLOAD_BYTES, refusalLog },
      )
    : undefined;
  const httpIngestPort = (http.server.address() as { port: number }).port;
  log.info({ mqttPort, mqttsPort, httpIngestPort, gatewayId: cfg.GATEWAY_ID, registry: registry.path, spool: spool.dir, openFileLimit: fileLimit?.soft, maxConnections: budget.maxTotal }, 'gateway listening');

  return {
    broker,
    forwarder,
    spool,
    registry,
    mqttPort,
    mqttsPort,
    httpIngestPort,
    chirpstack,
    async close() {
      unwatch();
      sessions.close();
      budget.close();
      refusalLog.close();
      // Stop new connections, then let in-flight publishes and requests finish before closing clients.
      tcp.close();
      tls?.close();
      const httpClosed = http.close();
      await chirpstack?.close();
      await forwarder.drain();
      await httpClosed;
      await deadLetterProducer?.then((p) => p.close()).catch(() => undefined);
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** An identifier as it may appear in a log line: whatever a client sent, at most 64 characters of it. */
const boundedId = (s: string | undefined) => (s === undefined || s.length <= 64 ? s : `${s.slice(0, 64)}…(${s.length} chars)`);

function remoteOf(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress;
}
