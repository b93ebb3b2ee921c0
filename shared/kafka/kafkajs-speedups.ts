/**
 * Costs kafkajs 2.2.4 (no release since 2023) pays on every record it produces or consumes, made
 * what they should be; loaded before any kafkajs producer encodes a batch (shared/kafka/client.ts imports
 * it first). A profile of producing `telemetry.normalized` records of 10 readings (about 2 KB,
 * `npm run bench:kafka-clients`) put 14 % of the producer's CPU in the record batch's CRC-32C,
 * computed byte by byte in JavaScript, and 21 % in zero-filling the encoder's buffers as they grow.
 * An on-CPU profile of the pipeline (`bench/perf-summary.ts`) put 3 % of the normaliser and 2 % of
 * the gateway in sorting a send's records by partition, which copies each partition's list for
 * every record it adds: quadratic in the records of a send. Acknowledging 200 devices as fast as
 * it can, the gateway sends larger batches, and the sorting was 6.5 % of its CPU.
 *
 * - The CRC-32C module is swapped for @node-rs/crc32's (SIMD; the one @platformatic/kafka uses),
 *   the same function of the same bytes: `kafkajs-speedups.test.ts` holds them equal for any input.
 * - Varints are written straight into the encoder's buffer, and varlongs of 32-bit integers as
 *   varints of their zigzag: kafkajs made an array, a Buffer and a copy for each, and 64-bit `Long`
 *   objects for each varlong (together 6 % of the gateway's CPU per PUBACK). The same bytes:
 *   `kafkajs-speedups.test.ts` holds them equal to kafkajs's own for any integer.
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

/**
 * Puts `exports` in place of the kafkajs module at `path` if it is not loaded yet. True when kafkajs
 * uses it: put in place now, or by an earlier load of this file (a test runner's), which `mark` on
 * the exports tells; false only if kafkajs loaded the module before this file.
 */
function replaceModule(path: string, exports: object, mark: string): boolean {
  const loaded = require.cache[path];
  if (loaded) return (loaded.exports as Record<string, unknown>)[mark] === true;
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  require.cache[path] = m;
  return true;
}

/** Whether kafkajs uses the native CRC. */
export const fastCrc = replaceModule(CRC_MODULE, recordBatchCrc, 'native');

/**
 * - A send's records grouped by partition in one pass: the same object (partition → its records,
 *   in the order sent) kafkajs's `groupMessagesPerPartition` returns, built by appending instead of
 *   copying. `kafkajs-speedups.test.ts` holds the two equal for any records and partitioner.
 */
interface Grouping<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}
export const groupByPartition = Object.assign(
  <M>({ topic, partitionMetadata, messages, partitioner }: Grouping<M>): Record<number, M[]> => {
    const grouped: Record<number, M[]> = {};
    if (partitionMetadata.length === 0) return grouped;
    for (const message of messages) (grouped[partitioner({ topic, partitionMetadata, message })] ??= []).push(message);
    return grouped;
  },
  { linear: true },
);
/** Whether kafkajs groups a send's records in one pass. */
export const linearGrouping = replaceModule(require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js'), groupByPartition, 'linear');

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeUVarInt: (this: KafkajsEncoder, value: number) => KafkajsEncoder;
  writeVarLong: (this: KafkajsEncoder, value: unknown) => KafkajsEncoder;
  writeVarInt(value: number): KafkajsEncoder;
}
type EncoderClass = (new (initialSize?: number) => KafkajsEncoder) & {
  prototype: KafkajsEncoder;
  nextPowerOfTwo(n: number): number;
  sizeOfVarLong(value: unknown): number;
  sizeOfVarInt(value: number): number;
  unzeroed?: true;
};

/** A 32-bit signed integer: its zigzag varlong is the same bytes as its zigzag varint. */
const isInt32 = (value: unknown): value is number => typeof value === 'number' && (value | 0) === value;
const ENCODER_MODULE = require.resolve('kafkajs/src/protocol/encoder.js');
const Encoder = require(ENCODER_MODULE) as EncoderClass;

if (!Encoder.unzeroed) {
  Encoder.prototype.ensureAvailable = function ensureAvailable(this: KafkajsEncoder, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  // Varints written straight into the buffer. kafkajs builds an array of the bytes, a Buffer of
  // it and copies that in: for each of a record's five varints. The loop is kafkajs's own.
  Encoder.prototype.writeUVarInt = function writeUVarInt(this: KafkajsEncoder, value: number): KafkajsEncoder {
    this.ensureAvailable(5);
    while ((value & 0xffffff80) !== 0) {
      this.buf[this.offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.offset++] = value & 0x7f;
    return this;
  };
  // A varlong of a 32-bit integer (a record's time from its batch's first) is written and sized as
  // kafkajs's own varint of it, without its 64-bit Long arithmetic, which allocates at every step.
  const writeVarLong = Encoder.prototype.writeVarLong;
  Encoder.prototype.writeVarLong = function (this: KafkajsEncoder, value: unknown): KafkajsEncoder {
    return isInt32(value) ? this.writeVarInt(value) : writeVarLong.call(this, value);
  };
  const sizeOfVarLong = Encoder.sizeOfVarLong.bind(Encoder);
  Encoder.sizeOfVarLong = (value: unknown): number => (isInt32(value) ? Encoder.sizeOfVarInt(value) : sizeOfVarLong(value));
  class UnzeroedEncoder extends Encoder {
    static override readonly unzeroed = true;
    constructor(initialSize = 511) {
      super(0); // a 1-byte buffer, replaced at once
      this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize));
    }
  }
  require.cache[ENCODER_MODULE]!.exports = UnzeroedEncoder;
}

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarIntBytes(): Buffer | null;
}
interface BatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}
type RecordDecoder = ((decoder: KafkajsDecoder, batchContext?: BatchContext) => unknown) & { numeric?: true };
const RECORD_DECODER_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
const LOG_APPEND_TIME = (require('kafkajs/src/protocol/timestampTypes.js') as { LOG_APPEND_TIME: number }).LOG_APPEND_TIME;

/**
 * `first + delta` as kafkajs's `Long` writes it, where `first` is an integer in decimal as `Long`
 * writes it and the sum is a safe integer; else undefined. The batch's first time and offset
 * are parsed once per batch (the same string for each of its records).
 */
function adder(): (first: string, delta: number) => string | undefined {
  let parsedText: string | undefined;
  let parsed = NaN;
  return (first, delta) => {
    if (first !== parsedText) {
      const n = Number(first);
      parsed = Number.isSafeInteger(n) && String(n) === first ? n : NaN;
      parsedText = first;
    }
    const sum = parsed + delta;
    return Number.isSafeInteger(sum) ? String(sum) : undefined;
  };
}

/**
 * - A consumed record's time and offset computed with numbers: kafkajs adds each record's deltas to
 *   its batch's first time and offset with 64-bit `Long` objects and prints them in decimal (4–9 %
 *   of each consuming stage's CPU). Where anything is out of the ordinary — a delta wider than 28
 *   bits, values beyond 2^53, headers — kafkajs's own decoder reads the record. The same results:
 *   `kafkajs-speedups.test.ts` holds them equal to kafkajs's own for any record and batch.
 */
export const decodeRecord = (() => {
  const kafkajs = require(RECORD_DECODER_MODULE) as RecordDecoder;
  if (kafkajs.numeric) return kafkajs; // this module loaded twice (a test runner)
  const timeOf = adder();
  const offsetOf = adder();
  const decode: RecordDecoder = (decoder, batchContext = {}) => {
    const start = decoder.offset;
    const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
    const ownDecoder = () => {
      decoder.offset = start;
      return kafkajs(decoder, batchContext);
    };
    if (typeof firstOffset !== 'string' || typeof firstTimestamp !== 'string') return ownDecoder();
    const attributes = decoder.readInt8();
    // TimestampDelta, a zigzag varlong: up to four bytes (28 bits) read here.
    const buf = decoder.buffer;
    let at = decoder.offset;
    let raw = 0;
    let shift = 0;
    let byte: number | undefined;
    do {
      byte = buf[at++];
      if (byte === undefined) return ownDecoder();
      raw |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80 && shift < 28);
    if (byte >= 0x80) return ownDecoder();
    decoder.offset = at;
    const timestampDelta = (raw >>> 1) ^ -(raw & 1);
    const timestamp = timestampType === LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : timeOf(firstTimestamp, timestampDelta);
    const offsetDelta = decoder.readVarInt();
    const offset = offsetOf(firstOffset, offsetDelta);
    if (timestamp === undefined || offset === undefined) return ownDecoder();
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    // Headers: none is one zero byte; any, and kafkajs's decoder reads the record.
    if (buf[decoder.offset] !== 0) return ownDecoder();
    decoder.offset++;
    return { magicByte, attributes, timestamp, offset, key, value, headers: {}, isControlRecord: isControlBatch, batchContext };
  };
  decode.numeric = true;
  require.cache[RECORD_DECODER_MODULE]!.exports = decode;
  return decode;
})();
