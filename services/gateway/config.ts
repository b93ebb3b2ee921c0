/** The gateway's settings, from the environment (the table in services/gateway/README.md is generated from these descriptions). */
import { hostname } from 'node:os';
import { z } from 'zod';
import { bool, commonEnv, int, busEnv, port } from '../../shared/config.ts';
import { normalizerEnv } from '../normalizer/config.ts';

export const gatewayEnv = {
  ...commonEnv,
  ...busEnv,
  GATEWAY_ID: z.string().min(1).default(hostname()).meta({ description: 'goes into every envelope; names the spool directory', docDefault: 'host name' }),
  MQTT_PORT: port(1883).describe('MQTT over TCP'),
  MQTT_HOST: z.string().default('0.0.0.0').describe('bind address of the MQTT listeners'),
  MQTTS_PORT: port(8883).describe('MQTT over TLS, when MQTT_TLS_CERT and MQTT_TLS_KEY are set'),
  MQTT_TLS_CERT: z.string().optional().describe('PEM certificate (chain) of the TLS listener'),
  MQTT_TLS_KEY: z.string().optional().describe('PEM private key of the TLS listener'),
  MQTT_TLS_CA: z.string().optional().describe('PEM certificate of the CA that signs device certificates: set, the TLS listener takes devices by X.509 certificate (CN = device id) as well as by password'),
  OPS_PORT: port(9101).describe('/healthz, /readyz, /metrics'),
  HTTP_INGEST_PORT: port(8081).describe('HTTP ingest for devices (POST /ingest/v1/{municipality}/{kind}/{deviceId}) and network-server webhooks'),
  HTTP_INGEST_HOST: z.string().default('0.0.0.0').describe('bind address of HTTP ingest'),
  MAX_FUTURE_MS: normalizerEnv.MAX_FUTURE_MS,
  CHIRPSTACK_MQTT_URL: z.string().regex(/^mqtts?:\/\/.+/, 'expected mqtt://host:port or mqtts://host:port').optional().meta({ description: "the ChirpStack deployment's MQTT broker (mqtt:// or mqtts://); unset = the ChirpStack source is off", docDefault: 'unset (off)' }),
  CHIRPSTACK_MQTT_USERNAME: z.string().optional().describe("user name at the ChirpStack broker"),
  CHIRPSTACK_MQTT_PASSWORD: z.string().optional().describe("password at the ChirpStack broker"),
  CHIRPSTACK_MQTT_CA: z.string().optional().meta({ description: "PEM CA certificate to verify an mqtts:// ChirpStack broker by, when the system's CAs do not", docDefault: "unset (the system's CAs)" }),
  CHIRPSTACK_TOPIC: z.string().min(1).default('application/+/device/+/event/up').describe('uplink events to subscribe to (QoS 1)'),
  CHIRPSTACK_CLIENT_ID: z.string().min(1).optional().meta({ description: 'client id of the persistent session at the ChirpStack broker (one per gateway)', docDefault: 'smartcity-$GATEWAY_ID' }),
  CHIRPSTACK_TENANT_MAP: z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      try {
        return z.record(z.string(), z.string()).parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected JSON like {"<tenant id or name>":"kalamata"}' });
        return z.NEVER;
      }
    })
    .describe("ChirpStack tenant (id or name) → municipality, as JSON; when set, an uplink whose tenant does not name its device's municipality is dead-lettered"),
  TTS_WEBHOOK_SECRET: z.string().min(16).optional().meta({ description: "The Things Stack webhook's shared secret (its X-Webhook-Secret header); unset = the webhook is off", docDefault: 'unset (off)' }),
  DEVICE_REGISTRY: z.string().optional().meta({ description: 'the registry file shared with npm run devices', docDefault: '$DATA_DIR/devices.json' }),
  MQTT_REQUIRE_CLIENT_ID_MATCH: bool(true).describe('refuse a client id that is neither the device id nor deviceId:suffix, so no device can take over another one\'s session'),
  MAX_PAYLOAD_BYTES: int(65_536, 16, 16 * 1024 * 1024).describe('larger publishes are refused'),
  DEVICE_RATE_LIMIT: int(50, 1).describe('publishes per second per device, sustained (telemetry and status)'),
  DEVICE_RATE_BURST: int(200, 1).describe('publishes a device may send at once'),
  DEVICE_RATE_MAX_WAIT_MS: int(30_000, 0).describe('a publish over its device\'s rate waits for its turn (PUBACK held, socket not read); one that would wait longer disconnects the device'),
  MQTT_MAX_CONNECT_BYTES: int(16 * 1024, 64, 16 * 1024 * 1024).describe('largest CONNECT packet, checked on its first bytes, before authentication'),
  MQTT_MAX_PACKET_BYTES: int(0, 0, 256 * 1024 * 1024).describe('largest packet after CONNECT, checked on its first bytes; 0 = MAX_PAYLOAD_BYTES + 4 KiB'),
  MAX_SESSIONS_PER_DEVICE: int(4, 1, 1000).describe('connections one device may hold at once, and persistent sessions it may keep'),
  MQTT_SESSION_EXPIRY_MS: int(3_600_000, 1000).describe('a persistent session (clean=false) is forgotten this long after its device disconnected'),
  MQTT_MAX_INFLIGHT_INBOUND: int(32, 1, 65_535).describe('unfinished inbound QoS 2 flows one client may hold'),
  LOGIN_FREE_FAILURES: int(3, 1).describe('wrong secrets for one device id before each next attempt must wait (1 s, doubling)'),
  LOGIN_FREE_FAILURES_PER_ADDRESS: int(10, 1).describe('the same, per source address (many devices may share one)'),
  LOGIN_MAX_BLOCK_MS: int(60_000, 1000).describe('longest wait after failed logins'),
  LOGIN_CONCURRENT_CHECKS: int(2, 1).describe('password checks running at once per device id or address; more wait their turn'),
  LOGIN_QUEUE: int(64, 0).describe('logins that may wait their turn per device id or address; more are refused at once'),
  BUS_LINGER_MS: int(2, 0, 1000).describe('how long a reading may wait for others to share its produce; formerly KAFKA_LINGER_MS'),
  BUS_BATCH_MAX: int(1000, 1, 100_000).describe('records per produce request; formerly KAFKA_BATCH_MAX'),
  BUS_SEND_TIMEOUT_MS: int(5000, 100).describe('a produce slower than this sends its batch to the spool; formerly KAFKA_SEND_TIMEOUT_MS'),
  SPOOL_DIR: z.string().optional().meta({ description: 'where readings wait while the bus is away', docDefault: '$DATA_DIR/gateway-spool/$GATEWAY_ID' }),
  SPOOL_MAX_BYTES: int(512 * 1024 * 1024, 1024).describe('spool bound; when full, QoS 1 publishes are refused'),
  SPOOL_SEGMENT_BYTES: int(16 * 1024 * 1024, 1024).describe('spool segment size'),
  SPOOL_FSYNC_MAX_DELAY_MS: int(5, 0, 1000).describe('how long an append may wait to share an fsync'),
  SHUTDOWN_TIMEOUT_MS: int(15_000, 100).describe('drain deadline on SIGTERM'),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayEnv>>;
