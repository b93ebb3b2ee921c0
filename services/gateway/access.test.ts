import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KINDS, type DeviceAddress } from '../../shared/schemas/topics.ts';
import { clientIdMatches, decidePublish, decideSubscribe, publishDecider } from './access.ts';

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

describe('publishDecider', () => {
  it("decides as decidePublish for any device and topic (its fast path is the device's own two topics)", () => {
    const ident = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    const device = fc.record({ municipality: ident, kind: fc.constantFrom(...KINDS), deviceId: ident }) as fc.Arbitrary<DeviceAddress>;
    const topicOf = (d: DeviceAddress, other: DeviceAddress) =>
      fc.oneof(
        fc.array(fc.constantFrom('city', d.municipality, d.kind, d.deviceId, other.municipality, other.kind, other.deviceId, 'telemetry', 'status', 'cmd', '+', '#', '', 'X'), { maxLength: 7 }).map((l) => l.join('/')),
        fc.string(),
        // Near the device's own topics, and the other device's.
        fc.constantFrom(...[d, other].flatMap((x) => {
          const base = `city/${x.municipality}/${x.kind}/${x.deviceId}`;
          return [base, `${base}/telemetry`, `${base}/status`, `${base}/cmd/reset`, `${base}/telemetry/`, `${base}/statusX`, `/${base}/telemetry`];
        })),
      );
    fc.assert(
      fc.property(fc.tuple(device, device).chain(([d, other]) => fc.tuple(fc.constant(d), topicOf(d, other))), ([d, topic]) => {
        expect(publishDecider(d)(topic)).toEqual(decidePublish(d, topic));
      }),
      { numRuns: 3000 },
    );
    expect(publishDecider(meter)('city/kalamata/energy/kal-m-1/telemetry')).toEqual({ allowed: true, channel: 'telemetry' });
    expect(publishDecider(meter)('city/kalamata/energy/kal-m-1/status')).toEqual({ allowed: true, channel: 'status' });
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
