import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload } from './envelope.ts';

describe('envelope payload encoding', () => {
  it('keeps UTF-8 as text and anything else as base64, both losslessly', () => {
    const text = Buffer.from('{"ts":1,"energy_wh":5,"note":"Καλαμάτα"}');
    expect(encodePayload(text)).toEqual({ payload: text.toString('utf8'), payloadEncoding: 'utf8' });
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const enc = encodePayload(binary);
    expect(enc.payloadEncoding).toBe('base64');
    expect(decodePayload(enc).equals(binary)).toBe(true);
    expect(decodePayload(encodePayload(text)).equals(text)).toBe(true);
    const bom = Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]); // a BOM survives the round trip
    expect(decodePayload(encodePayload(bom)).equals(bom)).toBe(true);
  });
});
