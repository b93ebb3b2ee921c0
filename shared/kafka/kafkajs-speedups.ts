/**
 * Two costs kafkajs 2.2.4 (no release since 2023) pays on every record it produces, made what they
 * should be; loaded before any kafkajs producer encodes a batch (shared/kafka/client.ts imports it
 * first). A profile of producing `telemetry.normalized` records of 10 readings (about 2 KB,
 * `npm run bench:kafka-clients`) put 14 % of the producer's CPU in the record batch's CRC-32C,
 * computed byte by byte in JavaScript, and 21 % in zero-filling the encoder's buffers as they grow.
 *
 * - The CRC-32C module is swapped for @node-rs/crc32's (SIMD; the one @platformatic/kafka uses),
 *   the same function of the same bytes: `kafkajs-speedups.test.ts` holds them equal for any input.
 * - An encoder (one per record, and one per batch and request) starts with, and grows into,
 *   buffers it does not zero first: every byte up to its offset is written before its buffer is
 *   read (`buffer` is the slice up to the offset; all writes go at the offset), and the bytes past
 *   it are never read. kafkajs loads its record-batch modules on the first produce, after this, so
 *   they construct this encoder.
 */
import Module, { createRequire } from 'node:module';
import { crc32c } from '@node-rs/crc32';

const require = createRequire(import.meta.url);
const CRC_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');

/** kafkajs's record-batch CRC: unsigned CRC-32C of the bytes (marked, so a second load of this module — a test runner's — knows its own). */
export const recordBatchCrc = Object.assign((buffer: Buffer): number => crc32c(buffer), { native: true });

const loaded = require.cache[CRC_MODULE];
if (!loaded) {
  const m = new Module(CRC_MODULE);
  m.filename = CRC_MODULE;
  m.loaded = true;
  m.exports = recordBatchCrc;
  require.cache[CRC_MODULE] = m;
}
/** Whether kafkajs uses the native CRC: false only if its producer path was loaded before this module. */
export const fastCrc = !loaded || (loaded.exports as { native?: boolean }).native === true;

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}
type EncoderClass = (new (initialSize?: number) => KafkajsEncoder) & { prototype: KafkajsEncoder; nextPowerOfTwo(n: number): number; unzeroed?: true };
const ENCODER_MODULE = require.resolve('kafkajs/src/protocol/encoder.js');
const Encoder = require(ENCODER_MODULE) as EncoderClass;

if (!Encoder.unzeroed) {
  Encoder.prototype.ensureAvailable = function ensureAvailable(this: KafkajsEncoder, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  class UnzeroedEncoder extends Encoder {
    static override readonly unzeroed = true;
    constructor(initialSize = 511) {
      super(0); // a 1-byte buffer, replaced at once
      this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize));
    }
  }
  require.cache[ENCODER_MODULE]!.exports = UnzeroedEncoder;
}
