import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCrc, recordBatchCrc } from './kafkajs-speedups.ts';

const require = createRequire(import.meta.url);
/** kafkajs's own byte-by-byte CRC-32C (the inner module, which is not swapped). */
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
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
});
