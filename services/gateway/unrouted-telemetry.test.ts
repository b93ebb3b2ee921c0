import { Aedes, type PublishPacket } from 'aedes';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetryTopic, type DeviceAddress, KINDS } from '../../shared/schemas/topics.ts';
import { decideSubscribe } from './access.ts';
import { leaveUnrouted } from './unrouted-telemetry.ts';

/** MQTT 3.1.1 §4.7 filter matching: `+` one level, `#` this level and all below. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

const packet = (topic: string): PublishPacket => ({ cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, messageId: 1 });

describe('telemetry the gateway carries to the bus is not routed by the broker', () => {
  let broker: Aedes | undefined;
  afterEach(() => new Promise<void>((r) => (broker ? broker.close(() => r()) : r())));

  it('completes a marked publish without delivering it, and routes every other publish as before', async () => {
    broker = await Aedes.createBroker();
    const leave = leaveUnrouted(broker);
    const delivered: string[] = [];
    await new Promise<void>((r) => broker!.subscribe('#', (p, cb) => (delivered.push(p.topic), cb()), r));
    const telemetry = packet('city/m/energy/d/telemetry');
    leave(telemetry);
    const published = (p: PublishPacket) => new Promise<Error | null | undefined>((r) => broker!.publish(p, r));
    expect(await published(telemetry)).toBeNull();
    expect(await published(packet('city/m/energy/d/status'))).toBeFalsy();
    expect(delivered).toEqual(['city/m/energy/d/status']);
  });

  it('is safe because no subscription a device may make matches any telemetry topic', () => {
    const ident = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    const device = fc.record({ municipality: ident, kind: fc.constantFrom(...KINDS), deviceId: ident }) as fc.Arbitrary<DeviceAddress>;
    // Filters of the device's own names, wildcards and channel names, from the root or under its cmd/;
    // and filters made from a telemetry topic, some levels turned into `+` and the rest maybe into `#`.
    const filter = device.chain((d) => {
      const level = fc.constantFrom('city', d.municipality, d.kind, d.deviceId, 'telemetry', 'status', 'cmd', '+', '#', '');
      const under = `city/${d.municipality}/${d.kind}/${d.deviceId}/cmd`;
      const anyLevels = fc.tuple(fc.array(level, { minLength: 1, maxLength: 7 }), fc.boolean()).map(([levels, fromRoot]) => (fromRoot ? levels.join('/') : [under, ...levels].join('/')));
      const fromTelemetry = fc.tuple(fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), fc.integer({ min: 0, max: 5 })).map(([wild, cut]) => {
        const levels = telemetryTopic(d).split('/').map((l, i) => (wild[i] ? '+' : l));
        return cut < 5 ? [...levels.slice(0, cut), '#'].join('/') : levels.join('/');
      });
      return fc.oneof(anyLevels, fromTelemetry).map((f) => ({ d, filter: f }));
    });
    fc.assert(
      fc.property(filter, device, ({ d, filter: f }, other) => {
        if (!decideSubscribe(d, f)) return;
        expect(matches(f, telemetryTopic(other))).toBe(false);
        expect(matches(f, telemetryTopic(d))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
