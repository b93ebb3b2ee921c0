/**
 * A store point as one line of InfluxDB line protocol, millisecond timestamps. The line is the
 * one the client library's `Point.toLineProtocol` gives (tags and fields sorted by key, the same
 * escapes, tags with empty values left out; `line-protocol.property.test.ts` holds the library's
 * `Point` to that for any point), built in one pass instead of through a `Point` object per
 * reading: in the writer's CPU profile, building and serialising `Point`s was its largest cost
 * after decoding (bench/reports/peer.md).
 */
import type { StorePoint } from '../store/store.ts';
import { ERROR_CODES } from '../errors.ts';

/** A point InfluxDB cannot hold (a non-finite number): refused before it is sent. */
export class UnwritablePoint extends Error {
  override name = 'UnwritablePoint';
  readonly code = ERROR_CODES.UNWRITABLE_POINT;
}

const MEASUREMENT_SPECIAL = /[, \n\r\t]/;
const KEY_SPECIAL = /[, =\n\r\t]/;
const ESCAPES: Record<string, string> = { ',': '\\,', ' ': '\\ ', '=': '\\=', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeWith = (special: RegExp, all: RegExp) => (s: string) => (special.test(s) ? s.replace(all, (c) => ESCAPES[c]!) : s);

const escapeMeasurement = escapeWith(MEASUREMENT_SPECIAL, /[, \n\r\t]/g);
/** Tag keys, tag values and field keys. */
const escapeKey = escapeWith(KEY_SPECIAL, /[, =\n\r\t]/g);
const quoted = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/**
 * The measurement and tags of the last point, escaped: the points of one device message share
 * their tags object (the writer builds it once), so the next point of the message reuses this.
 * Sorting and escaping the tags was about a third of the line's cost with 10-reading messages.
 */
let lastTags: StorePoint['tags'] | undefined;
let lastMeasurement = '';
let lastPrefix = '';

function seriesOf(p: StorePoint): string {
  if (lastTags === p.tags && lastMeasurement === p.measurement) return lastPrefix;
  let prefix = escapeMeasurement(p.measurement);
  for (const k of Object.keys(p.tags).sort()) {
    const v = p.tags[k];
    if (k && v) prefix += `,${escapeKey(k)}=${escapeKey(v)}`;
  }
  // Three variables, not a record: a 1-reading message's point would allocate one each time.
  lastTags = p.tags;
  lastMeasurement = p.measurement;
  lastPrefix = prefix;
  return prefix;
}

/** The line for `p`, or undefined when it has no fields (InfluxDB has no such point; the library skips it too). */
export function toLine(p: StorePoint): string | undefined {
  let fields = '';
  for (const k of Object.keys(p.fields).sort()) {
    if (!k) continue;
    const v = p.fields[k]!;
    let value: string;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new UnwritablePoint(`${p.measurement} field '${k}' of device ${p.tags.device ?? '?'} at ${p.ts} is ${v}: InfluxDB holds finite numbers only`);
      value = String(v);
    } else if (typeof v === 'boolean') value = v ? 'T' : 'F';
    else value = quoted(v);
    fields += `${fields ? ',' : ''}${escapeKey(k)}=${value}`;
  }
  if (!fields) return undefined;
  return `${seriesOf(p)} ${fields} ${Math.floor(p.ts)}`;
}
