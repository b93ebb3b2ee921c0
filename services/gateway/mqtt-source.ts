/**
 * The gateway's MQTT source: an aedes broker whose hooks carry the project's rules, on the TCP
 * listener (and TLS, with or without device certificates), each connection behind the packet-size
 * guard and the connection budget.
 *   connect:   authenticate (registry or certificate) → client id must belong to the device → session cap
 *   publish:   own topic? → payload size → telemetry: onto the bus (or the spool) → PUBACK (not routed to subscribers: there are none)
 *   subscribe: only the device's own `cmd/#`
 * The device's rate is applied on the wire, before its packets are parsed (packet-guard.ts).
 */
import { readSettingFile } from '../../shared/config-error.ts';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { DeviceRecord } from '../../shared/registry/device-registry.ts';
import type { DeviceAddress } from '../../shared/schemas/topics.ts';
import { bounded } from '../../shared/schemas/identifiers.ts';
import { clientIdMatches, decideSubscribe, publishDecider, type PublishDecision } from './access.ts';
import { certificateLogin, clientCertificateOf } from './client-certificate.ts';
import type { GatewayContext } from './context.ts';
import { DeviceConnections } from './device-connections.ts';
import { deviceLogin } from './login.ts';
import { GuardedConnection, PacketSizeGuard } from './packet-guard.ts';
import { CONNACK_CODE, CONNECT_REFUSAL, PUBLISH_REFUSAL, type ConnectRefusal, type PublishRefusal } from './refusals.ts';
import { SessionExpiry } from './sessions.ts';
import { defineSource, type RunningSource } from './source.ts';
import { leaveUnrouted } from './unrouted-telemetry.ts';

export interface MqttSource extends RunningSource {
  broker: Aedes;
  mqttPort: number;
  mqttsPort: number | undefined;
  /** The registry changed: disconnect devices that are no longer active. */
  registryChanged(): void;
}

/** Devices over MQTT (and MQTT over TLS, with passwords or client certificates): always on. */
export const mqttSource = defineSource({ name: 'mqtt', enabled: () => true, start: startMqttSource });

const authError = (message: string, returnCode: 4 | 5): AuthenticateError => Object.assign(new Error(message), { returnCode });

export async function startMqttSource(ctx: GatewayContext): Promise<MqttSource> {
  const { cfg, registry, authenticator, throttle, limiter, ingest, budget, refusalLog, metrics, log } = ctx;
  const packetLimits = { connectBytes: cfg.MQTT_MAX_CONNECT_BYTES, packetBytes: cfg.MQTT_MAX_PACKET_BYTES || cfg.MAX_PAYLOAD_BYTES + 4096 };
  /** The device behind each authenticated client, with its publish decision made once at login (access.ts). */
  const devices = new WeakMap<Client, DeviceAddress & { decide: (topic: string) => PublishDecision }>();
  const open = new DeviceConnections<Client>((delta) => metrics.connectedDevices.inc(delta));

  const broker = await Aedes.createBroker({
    id: cfg.GATEWAY_ID,
    maxInflightInbound: cfg.MQTT_MAX_INFLIGHT_INBOUND,
    authenticate: (client, username, password, done) => {
      const refuse = (reason: ConnectRefusal, extra: Record<string, unknown> = {}) => {
        metrics.authFailures.inc({ reason, source: 'mqtt' });
        refusalLog.warn(`${reason}|${remoteOf(client)}`, { device: bounded(username), clientId: bounded(client.id), reason, remote: remoteOf(client), ...extra }, 'connection refused');
        done(authError(reason, CONNACK_CODE[reason]), false);
      };
      const admit = (device: DeviceRecord) => {
        if (cfg.MQTT_REQUIRE_CLIENT_ID_MATCH && !clientIdMatches(client.id, device.id)) return refuse(CONNECT_REFUSAL.CLIENT_ID_MISMATCH);
        // Counted by open sockets; a reconnect under the same client id replaces its old session.
        if (open.othersThan(device.id, client.id) >= cfg.MAX_SESSIONS_PER_DEVICE) return refuse(CONNECT_REFUSAL.TOO_MANY_SESSIONS, { max: cfg.MAX_SESSIONS_PER_DEVICE });
        const conn = client.conn as unknown as GuardedConnection;
        const address: DeviceAddress = { municipality: device.municipality, kind: device.kind, deviceId: device.id };
        devices.set(client, { ...address, decide: publishDecider(address) });
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
        refusalLog.warn(`${reason}|${device.deviceId}`, { device: device.deviceId, topic: bounded(packet.topic), qos: packet.qos, reason, ...extra }, 'publish refused');
        done(new Error(reason));
      };
      const decision = device.decide(packet.topic);
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
      refusalLog.warn(`subscribe|${device?.deviceId ?? ''}`, { device: device?.deviceId, topic: bounded(sub.topic) }, 'subscription refused');
      done(null, null); // SUBACK with the failure code; the connection stays up
    },
  });

  /** Telemetry goes onto the bus and nowhere else: the broker does not route it (unrouted-telemetry.ts). */
  const carriedToBus = leaveUnrouted(broker);

  /** A publish that passed the topic, size and rate checks: status goes through, telemetry onto the bus first. */
  function accept(device: DeviceAddress, packet: PublishPacket, channel: 'telemetry' | 'status', done: (err?: Error | null) => void, refuse: (reason: PublishRefusal, extra?: Record<string, unknown>) => void): void {
    if (channel === 'status') {
      metrics.publishes.inc({ result: 'accepted', reason: 'status', kind: device.kind, source: 'mqtt' });
      return done();
    }
    packet.retain = false; // telemetry is a stream, not state
    carriedToBus(packet);
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


  const registryChanged = () => {
    for (const deviceId of open.devices()) {
      if (registry.active(deviceId)) continue;
      log.warn({ device: deviceId }, 'device revoked or removed: disconnecting');
      for (const c of open.clientsOf(deviceId)) c.close();
    }
  };

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
    const mutual = cfg.MQTT_TLS_CA ? { ca: readSettingFile('MQTT_TLS_CA', cfg.MQTT_TLS_CA), requestCert: true, rejectUnauthorized: false } : {};
    // The budget sees a TLS connection once its handshake is done: until then the handshake has the
    // login's deadline, and the listener as many sockets as the budget allows in all.
    tls = createTlsServer({ cert: readSettingFile('MQTT_TLS_CERT', cfg.MQTT_TLS_CERT), key: readSettingFile('MQTT_TLS_KEY', cfg.MQTT_TLS_KEY), handshakeTimeout: cfg.LOGIN_TIMEOUT_MS, ...mutual }, guarded);
    tls.maxConnections = budget.maxTotal;
    await listen(tls, cfg.MQTTS_PORT, cfg.MQTT_HOST);
  }
  const mqttPort = (tcp.address() as { port: number }).port;
  const mqttsPort = tls ? (tls.address() as { port: number }).port : undefined;

  return {
    broker,
    mqttPort,
    mqttsPort,
    describe: { mqttPort, mqttsPort },
    registryChanged,
    // In-flight publishes finish; the broker closes its clients after the forwarder has drained.
    stopTaking: () => {
      sessions.close();
      tcp.close();
      tls?.close();
    },
    close: () => new Promise<void>((r) => broker.close(() => r())),
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

function remoteOf(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress;
}
