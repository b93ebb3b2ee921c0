import { describe, expect, it } from 'vitest';
import { str } from './telemetry-store.ts';

describe('Flux string literals', () => {
  it('escape quotes, backslashes and ${ so a value can never become an interpolated expression', () => {
    expect(str('kal-1')).toBe('"kal-1"');
    expect(str('a${r._value}b')).toBe('"a\\${r._value}b"');
    expect(str('"; drop')).toBe('"\\"; drop"');
  });
});
