/**
 * What every source (MQTT, HTTP ingest, The Things Stack, ChirpStack) checks the identifiers it is
 * sent against, before anything is stored or dead-lettered — one check for all of them — and how
 * text that came from outside is shown in a reason or a log line: never more than a bounded part
 * of it, so a 30 kB identifier costs a 100-byte reason, not a 30 kB one.
 */
import { REJECT, type Rejection } from './rejections.ts';

/** Device ids, municipalities: lower-case letters, digits and dashes (the MQTT topic contract), at most 64. */
export const ID_RE = /^[a-z0-9-]{1,64}$/;
export const DEV_EUI_RE = /^[0-9a-fA-F]{16}$/;
/** Ids other systems give (TTS device or application ids, ChirpStack tenants): at most 128 characters, no control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
const FOREIGN_ID_RE = /^[^\x00-\x1f\x7f]{1,128}$/u;

const SHOWN_CHARS = 64;

/** At most 64 characters of outside text, JSON-quoted (so control characters cannot forge a line), with its length when cut. */
export function shown(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  const cut = s.length > SHOWN_CHARS ? s.slice(0, SHOWN_CHARS) : s;
  return `${JSON.stringify(cut)}${s.length > SHOWN_CHARS ? `…(${s.length} chars)` : ''}`;
}

/** Outside text as a log field may hold it: at most 64 characters, with its length when cut. */
export const bounded = (s: string | undefined): string | undefined => (s === undefined || s.length <= SHOWN_CHARS ? s : `${s.slice(0, SHOWN_CHARS)}…(${s.length} chars)`);

const invalid = (field: string, value: unknown, what: string): Rejection => ({ code: REJECT.IDENTIFIER_INVALID, field, reason: `${field}: ${shown(value)} is not ${what}` });

/** A device id as the registry keeps them. */
export function checkDeviceId(field: string, v: unknown): Rejection | undefined {
  return typeof v === 'string' && ID_RE.test(v) ? undefined : invalid(field, v, 'a device id (lower-case letters, digits, dashes; at most 64)');
}

export function checkDevEui(field: string, v: unknown): Rejection | undefined {
  return typeof v === 'string' && DEV_EUI_RE.test(v) ? undefined : invalid(field, v, 'a DevEUI (16 hex digits)');
}

/** An id another system assigns (absent is fine: the caller decides whether it must be there). */
export function checkForeignId(field: string, v: unknown): Rejection | undefined {
  return v === undefined || (typeof v === 'string' && FOREIGN_ID_RE.test(v)) ? undefined : invalid(field, v, 'an id (at most 128 characters, no control characters)');
}

/** The one size limit of a message, whatever its source. */
export function checkSize(bytes: number, max: number): Rejection | undefined {
  return bytes <= max ? undefined : { code: REJECT.PAYLOAD_TOO_LARGE, field: 'payload', reason: `payload: ${bytes} bytes, more than MAX_PAYLOAD_BYTES (${max}); not kept` };
}
