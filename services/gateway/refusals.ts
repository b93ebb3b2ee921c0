/**
 * Why the gateway turns a connection or a publish away: one vocabulary for the hooks, the logs and
 * the `reason` label of `gateway_auth_failures_total` / `gateway_publishes_total`, with the MQTT
 * CONNACK code a refused connection gets (4: bad user name or password, 5: not authorised).
 */
export const CONNECT_REFUSAL = {
  NO_CREDENTIALS: 'no_credentials',
  UNKNOWN_DEVICE: 'unknown_device',
  BAD_SECRET: 'bad_secret',
  REVOKED: 'revoked',
  CLIENT_ID_MISMATCH: 'client_id_mismatch',
  TOO_MANY_SESSIONS: 'too_many_sessions',
  THROTTLED: 'throttled',
  /** A client certificate the CA did not sign, without a CN, or not the one registered for its device. */
  BAD_CERTIFICATE: 'bad_certificate',
} as const;
export type ConnectRefusal = (typeof CONNECT_REFUSAL)[keyof typeof CONNECT_REFUSAL];

/** CONNACK return code of each refusal. */
export const CONNACK_CODE: Record<ConnectRefusal, 4 | 5> = {
  no_credentials: 4,
  unknown_device: 4,
  bad_secret: 4,
  revoked: 5,
  client_id_mismatch: 5,
  too_many_sessions: 5,
  throttled: 5,
  bad_certificate: 5,
};

export const PUBLISH_REFUSAL = {
  TOPIC_INVALID: 'topic_invalid',
  TOPIC_NOT_OWN: 'topic_not_own',
  TOPIC_CMD_PUBLISH: 'topic_cmd_publish',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  RATE_LIMITED: 'rate_limited',
  NOT_DURABLE: 'not_durable',
} as const;
export type PublishRefusal = (typeof PUBLISH_REFUSAL)[keyof typeof PUBLISH_REFUSAL];
