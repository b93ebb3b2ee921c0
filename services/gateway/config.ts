/** The gateway's settings, from the environment (defaults documented in services/gateway/README.md). */
import { hostname } from 'node:os';
import { z } from 'zod';
import { bool, commonEnv, int, kafkaEnv, port } from '../../shared/config.ts';

export const gatewayEnv = {
  ...commonEnv,
  ...kafkaEnv,
  GATEWAY_ID: z.string().min(1).default(hostname()),
  MQTT_PORT: port(1883),
  MQTT_HOST: z.string().default('0.0.0.0'),
  MQTTS_PORT: port(8883),
  MQTT_TLS_CERT: z.string().optional(),
  MQTT_TLS_KEY: z.string().optional(),
  OPS_PORT: port(9101),
  DEVICE_REGISTRY: z.string().optional(),
  /** Refuse a client id that is neither the device id nor `deviceId:suffix`, so no device can take over another's session. */
  MQTT_REQUIRE_CLIENT_ID_MATCH: bool(true),
  MAX_PAYLOAD_BYTES: int(65_536, 16, 16 * 1024 * 1024),
  DEVICE_RATE_LIMIT: int(50, 1),
  DEVICE_RATE_BURST: int(200, 1),
  /** A publish over the device's rate waits for its token (PUBACK held, socket not read); one that would wait longer disconnects the device. */
  DEVICE_RATE_MAX_WAIT_MS: int(30_000, 0),
  /** Largest CONNECT packet, checked on its first bytes, before authentication. */
  MQTT_MAX_CONNECT_BYTES: int(16 * 1024, 64, 16 * 1024 * 1024),
  /** Largest packet after CONNECT; 0 = MAX_PAYLOAD_BYTES + 4 KiB (topic and header room). */
  MQTT_MAX_PACKET_BYTES: int(0, 0, 256 * 1024 * 1024),
  /** Connections one device may hold at once (client ids `deviceId` and `deviceId:suffix`). */
  MAX_SESSIONS_PER_DEVICE: int(4, 1, 1000),
  /** A persistent session (clean=false) is forgotten this long after its device disconnected. */
  MQTT_SESSION_EXPIRY_MS: int(3_600_000, 1000),
  /** Unfinished inbound QoS 2 flows one client may hold (aedes keeps each packet until PUBREL). */
  MQTT_MAX_INFLIGHT_INBOUND: int(32, 1, 65_535),
  /** Failed logins per device id or address before each next attempt must wait (1 s, doubling). */
  LOGIN_FREE_FAILURES: int(3, 1),
  LOGIN_FREE_FAILURES_PER_ADDRESS: int(10, 1),
  LOGIN_MAX_BLOCK_MS: int(60_000, 1000),
  /** Password checks running at once per device id or address; more wait in a queue of LOGIN_QUEUE, then are refused. */
  LOGIN_CONCURRENT_CHECKS: int(2, 1),
  LOGIN_QUEUE: int(64, 0),
  KAFKA_LINGER_MS: int(2, 0, 1000),
  KAFKA_BATCH_MAX: int(1000, 1, 100_000),
  KAFKA_SEND_TIMEOUT_MS: int(5000, 100),
  SPOOL_DIR: z.string().optional(),
  SPOOL_MAX_BYTES: int(512 * 1024 * 1024, 1024),
  SPOOL_SEGMENT_BYTES: int(16 * 1024 * 1024, 1024),
  SPOOL_FSYNC_MAX_DELAY_MS: int(5, 0, 1000),
  SHUTDOWN_TIMEOUT_MS: int(15_000, 100),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayEnv>>;
