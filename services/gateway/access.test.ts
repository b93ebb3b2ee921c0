import { describe, expect, it } from 'vitest';
import { clientIdMatches, decidePublish, decideSubscribe } from './access.ts';

const meter = { municipality: 'kalamata', kind: 'energy' as const, deviceId: 'kal-m-1' };

describe('decidePublish', () => {
  it('allows the device its own telemetry and status topics', () => {
    expect(decidePublish(meter, 'city/kalamata/energy/kal-m-1/telemetry')).toEqual({ allowed: true, channel: 'telemetry' });
    expect(decidePublish(meter, 'city/kalamata/energy/kal-m-1/status')).toEqual({ allowed: true, channel: 'status' });
  });
  it.each([
    ['another device', 'city/kalamata/energy/kal-m-2/telemetry', 'topic_not_own'],
    ['another municipality', 'city/mytilene/energy/kal-m-1/telemetry', 'topic_not_own'],
    ['another kind', 'city/kalamata/fleet/kal-m-1/telemetry', 'topic_not_own'],
    ['its own command topic', 'city/kalamata/energy/kal-m-1/cmd/reset', 'topic_cmd_publish'],
    ['a topic outside the contract', 'city/kalamata/energy/kal-m-1/telemetry/extra', 'topic_invalid'],
    ['upper-case ids', 'city/Kalamata/energy/kal-m-1/telemetry', 'topic_invalid'],
    ['a wildcard', 'city/kalamata/energy/+/telemetry', 'topic_invalid'],
    ['an unknown kind', 'city/kalamata/water/kal-m-1/telemetry', 'topic_invalid'],
  ])('refuses %s', (_what, topic, reason) => {
    expect(decidePublish(meter, topic)).toEqual({ allowed: false, reason });
  });
});

describe('decideSubscribe', () => {
  it('allows only the own cmd subtree', () => {
    expect(decideSubscribe(meter, 'city/kalamata/energy/kal-m-1/cmd/#')).toBe(true);
    expect(decideSubscribe(meter, 'city/kalamata/energy/kal-m-1/cmd/reset')).toBe(true);
    expect(decideSubscribe(meter, 'city/kalamata/energy/kal-m-1/cmd/+/now')).toBe(true);
    expect(decideSubscribe(meter, 'city/kalamata/energy/kal-m-1/cmd')).toBe(true);
  });
  it.each([
    'city/kalamata/energy/kal-m-2/cmd/#',
    'city/kalamata/energy/+/cmd/#',
    'city/#',
    '#',
    'city/kalamata/energy/kal-m-1/telemetry',
    'city/kalamata/energy/kal-m-1/cmd/#/x',
    'city/kalamata/energy/kal-m-1/cmdx/#',
  ])('refuses %s', (filter) => {
    expect(decideSubscribe(meter, filter)).toBe(false);
  });
});

describe('clientIdMatches', () => {
  it('accepts the device id and device:suffix only', () => {
    expect(clientIdMatches('kal-m-1', 'kal-m-1')).toBe(true);
    expect(clientIdMatches('kal-m-1:probe', 'kal-m-1')).toBe(true);
    expect(clientIdMatches('kal-m-10', 'kal-m-1')).toBe(false);
    expect(clientIdMatches('kal-m-2', 'kal-m-1')).toBe(false);
  });
});
