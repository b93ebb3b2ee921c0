/**
 * Why a record or a reading was turned away: one vocabulary for the normaliser, the aggregator and
 * the stage runner. A rejection carries a code (a bounded metric label and something a program can
 * switch on), the field it concerns, and a sentence for a person — never text to be cut apart.
 */
export const REJECT = {
  /** The raw record's envelope is not JSON or misses a field (only a broken producer does this). */
  ENVELOPE_INVALID: 'envelope_invalid',
  /** The payload is not JSON. */
  PAYLOAD_NOT_JSON: 'payload_not_json',
  /** The payload is JSON but neither a reading, an array of readings, nor SenML. */
  PAYLOAD_UNKNOWN_FORMAT: 'payload_unknown_format',
  /** The payload holds more readings than one message may carry. */
  PAYLOAD_TOO_MANY_READINGS: 'payload_too_many_readings',
  /** SenML that breaks RFC 8428 or names another device. */
  SENML_INVALID: 'senml_invalid',
  /** A reading's field is missing, of the wrong type or out of range. */
  FIELD_INVALID: 'field_invalid',
  /** The timestamp is not a time. */
  TS_INVALID: 'ts_invalid',
  /** The timestamp lies before 2000. */
  TS_TOO_OLD: 'ts_too_old',
  /** The timestamp lies further ahead of the gateway's clock than allowed. */
  TS_IN_FUTURE: 'ts_in_future',
  /** The reading's window was closed too long ago to be recomputed. */
  LATE: 'late',
  /** The store refused the reading's point for what it holds (e.g. a field of another type). */
  STORE_REFUSED: 'store_refused',
  /** A record on the canonical topic is not a canonical reading (a producer bug). */
  NOT_CANONICAL: 'not_canonical',
  /** A network server's uplink names a device the registry does not have (or has revoked). */
  UNKNOWN_DEVICE: 'unknown_device',
  /** A network server's tenant maps to another municipality than the device's. */
  TENANT_MISMATCH: 'tenant_mismatch',
  /** A network server's event names two different devices (its DevEUI and its device id disagree). */
  DEVICE_MISMATCH: 'device_mismatch',
  /** An event larger than MAX_PAYLOAD_BYTES (its original is not kept). */
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  /** An identifier (device id, DevEUI, tenant or application id) that no registered device can have. */
  IDENTIFIER_INVALID: 'identifier_invalid',
  /**
   * A town edge's record claims what that edge may not send: a municipality outside its scope,
   * another gateway's id, or a device that is not one of its towns' (docs/edge.md).
   */
  EDGE_SCOPE: 'edge_scope',
  /** An alarm notification its municipality's webhook did not accept within the bound (the alarm itself is stored). */
  NOTIFICATION_UNDELIVERED: 'notification_undelivered',
  /** Handling the record threw, every retry included (a bug or an input nobody foresaw). */
  PROCESSING_FAILED: 'processing_failed',
} as const;

export type RejectionCode = (typeof REJECT)[keyof typeof REJECT];

export const REJECTION_CODES = Object.values(REJECT) as RejectionCode[];

export interface Rejection {
  code: RejectionCode;
  /** The field concerned (`lat`, `ts`, `payload`, `envelope.kind`, …). */
  field: string;
  /** One sentence naming the field and why, e.g. `lat: Too big: expected number to be <=90`. */
  reason: string;
  /** Index of the reading inside an array payload; absent when the whole record was rejected. */
  index?: number;
}
