import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PrivateUsePolicy, privateUseEnv } from './private-use.ts';

const settings = z.object(privateUseEnv);
const hours = settings.parse({ FLEET_WORKING_HOURS: '{"kalamata": {"days": [1,2,3,4,5], "from": "07:00", "to": "17:00"}}' }).FLEET_WORKING_HOURS;
const policy = new PrivateUsePolicy(hours);
/** Athens local time as epoch ms (winter: UTC+2, summer: UTC+3). */
const athens = (iso: string, offsetH: number) => Date.parse(`${iso}Z`) - offsetH * 3_600_000;

describe('private use of a vehicle', () => {
  it('is private outside the working hours, in Athens time', () => {
    expect(policy.isPrivate('kalamata', {}, athens('2026-12-07T06:59', 2))).toBe(true); // Monday, before 07:00
    expect(policy.isPrivate('kalamata', {}, athens('2026-12-07T07:00', 2))).toBe(false);
    expect(policy.isPrivate('kalamata', {}, athens('2026-12-07T16:59', 2))).toBe(false);
    expect(policy.isPrivate('kalamata', {}, athens('2026-12-07T17:00', 2))).toBe(true);
    expect(policy.isPrivate('kalamata', {}, athens('2026-12-05T12:00', 2))).toBe(true); // Saturday
    expect(policy.isPrivate('kalamata', {}, athens('2026-12-06T12:00', 2))).toBe(true); // Sunday = 7
    // Summer time: 07:30 local is 04:30 UTC — working time, though 04:30 would not be.
    expect(policy.isPrivate('kalamata', {}, athens('2026-07-06T07:30', 3))).toBe(false);
    expect(policy.isPrivate('kalamata', {}, athens('2026-07-06T06:30', 3))).toBe(true);
  });

  it('is always private for a vehicle marked use=private, and never for a town without hours', () => {
    expect(policy.isPrivate('kalamata', { use: 'private' }, athens('2026-12-07T10:00', 2))).toBe(true);
    expect(policy.isPrivate('sparti', {}, athens('2026-12-05T23:00', 2))).toBe(false);
    expect(policy.isPrivate('sparti', { use: 'private' }, athens('2026-12-07T10:00', 2))).toBe(true);
    expect(policy.mayBePrivate('sparti', {})).toBe(false);
    expect(policy.mayBePrivate('kalamata', {})).toBe(true);
  });

  it('names the wrong field of the setting in one line', () => {
    const wrong = settings.safeParse({ FLEET_WORKING_HOURS: '{"kalamata": {"days": [1], "from": "7am", "to": "17:00"}}' });
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]?.message).toBe('kalamata.from: a time of day as HH:MM');
    expect(settings.safeParse({ FLEET_WORKING_HOURS: '{"kalamata": {"days": [1], "from": "17:00", "to": "07:00"}}' }).error?.issues[0]?.message).toMatch(/'from' must come before 'to'/);
  });

  it('reads any text as hours or a rejection, never a throw', () => {
    const text = fc.oneof(fc.string(), fc.json(), fc.record({ m: fc.record({ days: fc.array(fc.integer({ min: -2, max: 9 })), from: fc.string(), to: fc.string() }) }).map((o) => JSON.stringify(o)));
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 4_102_444_800_000 }), (t, ts) => {
        const r = settings.safeParse({ FLEET_WORKING_HOURS: t });
        if (r.success) for (const m of Object.keys(r.data.FLEET_WORKING_HOURS)) expect(typeof new PrivateUsePolicy(r.data.FLEET_WORKING_HOURS).isPrivate(m, {}, ts)).toBe('boolean');
        else expect(r.error.issues[0]?.message).toBeTruthy();
      }),
    );
  });
});
