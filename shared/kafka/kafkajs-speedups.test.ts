import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileFunction } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecord, fastCrc, groupByPartition, linearGrouping, recordBatchCrc } from './kafkajs-speedups.ts';

const require = createRequire(import.meta.url);
/** kafkajs's own byte-by-byte CRC-32C (the inner module, which is not swapped). */
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
/**
 * A kafkajs module as kafkajs ships it, compiled from its file in a module of its own (the module
 * kafkajs loads is the replacement, or patched), its requires resolved beside it.
 */
function kafkajsOwn<T>(module: string): T {
  const path = require.resolve(module);
  const m = { exports: {} as unknown };
  const load = compileFunction(readFileSync(path, 'utf8'), ['module', 'exports', 'require']) as (module: typeof m, exports: unknown, req: NodeJS.Require) => void;
  load(m, m.exports, createRequire(path));
  return m.exports as T;
}
const kafkajsGrouping = kafkajsOwn<typeof groupByPartition>('kafkajs/src/producer/groupMessagesPerPartition.js');
interface VarintEncoder {
  writeVarInt(v: number): VarintEncoder;
  writeUVarInt(v: number): VarintEncoder;
  writeVarLong(v: unknown): VarintEncoder;
  buffer: Buffer;
}
type VarintEncoderClass = (new () => VarintEncoder) & { sizeOfVarLong(v: unknown): number };
const KafkajsEncoder = kafkajsOwn<VarintEncoderClass>('kafkajs/src/protocol/encoder.js');
const kafkajsDecodeRecord = kafkajsOwn<typeof decodeRecord>('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => { buffer: Buffer };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => Parameters<typeof decodeRecord>[0];
/** What a call returned, or the kind of error it threw. */
const outcome = (f: () => unknown) => {
  try {
    return { returned: f() };
  } catch (err) {
    return { threw: (err as Error).name };
  }
};
const Encoder = require('kafkajs/src/protocol/encoder.js') as (new (initialSize?: number) => { writeBytes(b: Buffer): unknown; writeString(s: string): unknown; buffer: Buffer }) & { unzeroed?: true };

describe('kafkajs speed-ups', () => {
  it('kafkajs computes record-batch checksums with the native CRC-32C', () => {
    expect(fastCrc).toBe(true);
    const used = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as typeof recordBatchCrc;
    expect(used.native).toBe(true);
  });

  it('the native CRC-32C equals kafkajs own for any bytes', () => {
    expect(recordBatchCrc(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => recordBatchCrc(Buffer.from(bytes)) === kafkajsCrc(Buffer.from(bytes)) >>> 0));
  });

  it('kafkajs modules loaded from now on construct the unzeroed encoder', () => {
    expect(Encoder.unzeroed).toBe(true);
  });

  it('a growing encoder holds exactly what was written, whatever its unzeroed buffers held before', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)), fc.string({ maxLength: 300 })), { maxLength: 20 }), fc.integer({ min: 1, max: 600 }), (parts, initial) => {
        // Dirty the pool the unzeroed buffers come from, so stale bytes would show.
        Buffer.allocUnsafe(4096).fill(0xab);
        const encoder = new Encoder(initial);
        for (const p of parts) {
          if (typeof p === 'string') encoder.writeString(p);
          else encoder.writeBytes(p);
        }
        // The same writes, each into an encoder of its own, concatenated: lengths and bytes as kafkajs lays them out.
        const expected = Buffer.concat(
          parts.map((p) => {
            const one = new Encoder(Buffer.byteLength(typeof p === 'string' ? p : p) + 8);
            if (typeof p === 'string') one.writeString(p);
            else one.writeBytes(p);
            return one.buffer;
          }),
        );
        return encoder.buffer.equals(expected);
      }),
    );
  });

  it("varints and varlongs are the bytes kafkajs's own encoder writes, for any integer", () => {
    const Patched = Encoder as unknown as VarintEncoderClass;
    const int = fc.oneof(fc.integer(), fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.integer({ min: -300, max: 300 }), fc.maxSafeInteger(), fc.constantFrom(0x7fffffff, -0x80000000, 0x80000000, -0x80000001, 2 ** 32, -(2 ** 32)));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('writeVarInt', 'writeUVarInt', 'writeVarLong'), int), { maxLength: 20 }), (writes) => {
        const ours = new Patched();
        const theirs = new KafkajsEncoder();
        for (const [method, v] of writes) {
          ours[method as 'writeVarInt'](v);
          theirs[method as 'writeVarInt'](v);
        }
        expect(ours.buffer).toEqual(theirs.buffer);
      }),
    );
    fc.assert(fc.property(int, (v) => Patched.sizeOfVarLong(v) === KafkajsEncoder.sizeOfVarLong(v) && Patched.sizeOfVarLong(v) === new KafkajsEncoder().writeVarLong(v).buffer.length));
    // What the fast path leaves to kafkajs: anything not a 32-bit integer.
    expect(new Patched().writeVarLong('1234567890123').buffer).toEqual(new KafkajsEncoder().writeVarLong('1234567890123').buffer);
  });

  it("a consumed record decodes as kafkajs's own decoder decodes it, for any record and batch", () => {
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')).toBe(decodeRecord);
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
    const first = fc.oneof(int64, fc.integer({ min: 0, max: 2 ** 45 }).map(String), fc.constantFrom('9007199254740991', '9007199254740990', '-9007199254740991', '0', '00', '1e3', ''));
    const delta = fc.oneof(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -(2 ** 27), max: 2 ** 27 - 1 }), fc.integer(), fc.maxSafeInteger());
    const bytes = fc.option(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)));
    const headers = fc.oneof(fc.constant({}), fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 })), { maxKeys: 3 }));
    const record = fc.record({ timestampDelta: delta, offsetDelta: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), key: bytes, value: bytes, headers });
    const context = fc.record({ firstOffset: first, firstTimestamp: first, magicByte: fc.constant(2), isControlBatch: fc.boolean(), timestampType: fc.constantFrom(0, 1), maxTimestamp: first });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), context, (records, batchContext) => {
        // Records one after another in one buffer, each after its length, as in a batch.
        const buffer = Buffer.concat(records.map((r) => encodeRecord(r).buffer));
        const ours = new Decoder(buffer);
        const theirs = new Decoder(buffer);
        for (let i = 0; i < records.length; i++) {
          ours.readVarInt();
          theirs.readVarInt();
          expect(outcome(() => decodeRecord(ours, batchContext))).toEqual(outcome(() => kafkajsDecodeRecord(theirs, batchContext)));
          expect(ours.offset).toBe(theirs.offset);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("kafkajs's producer groups a send's records with the one-pass grouping", () => {
    expect(linearGrouping).toBe(true);
    require('kafkajs');
    expect((require('kafkajs/src/producer/groupMessagesPerPartition.js') as { linear?: boolean }).linear).toBe(true);
  });

  it("the one-pass grouping equals kafkajs's own for any records and partitioner", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.string({ maxLength: 4 }), value: fc.string({ maxLength: 4 }) }), { maxLength: 300 }), fc.integer({ min: 0, max: 12 }), fc.array(fc.nat(), { minLength: 1 }), (messages, partitions, picks) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId }));
        // Any placement: each record's partition drawn from `picks` by its position in the send.
        const placed = new Map(messages.map((m, i) => [m, picks[i % picks.length]! % Math.max(1, partitions)]));
        const args = { topic: 't', partitionMetadata, messages, partitioner: ({ message }: { message: (typeof messages)[number] }) => placed.get(message)! };
        expect(groupByPartition(args)).toEqual(kafkajsGrouping(args));
      }),
    );
  });

  it('every module of the bus that loads kafkajs loads the speed-ups before it', () => {
    // A module that imported kafkajs first would leave kafkajs's own producer modules in place.
    const loaders = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.ts') && !f.includes('.test') && /^import (?!type)[^;]*from 'kafkajs'/m.test(readFileSync(`${import.meta.dirname}/${f}`, 'utf8')));
    expect(loaders).toContain('partitioner.ts');
    for (const f of loaders) {
      const script = `await import(${JSON.stringify(`${import.meta.dirname}/${f}`)}); const s = await import(${JSON.stringify(`${import.meta.dirname}/kafkajs-speedups.ts`)}); console.log(s.fastCrc && s.linearGrouping);`;
      expect([f, execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()]).toEqual([f, 'true']);
    }
  });
});
