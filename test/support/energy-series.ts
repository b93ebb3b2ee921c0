/** A meter's readings, one a minute, with its ground truth: what the late-data tests publish and check against. */
import type { GroundTruthLine } from '../../simulators/runner.ts';

const MIN = 60_000;

export interface EnergyReadingOut extends Record<string, number> {
  ts: number;
  energy_wh: number;
  power_w: number;
}

/** Readings from `from` to `to` (inclusive), a counter rising by a power that varies with the minute. */
export function energySeries(device: string, municipality: string, from: number, to: number, seed: number): { out: EnergyReadingOut[]; truth: GroundTruthLine[] } {
  const out: EnergyReadingOut[] = [];
  let wh = 10_000 * seed;
  for (let ts = from; ts <= to; ts += MIN) {
    const power = 500 + ((ts / MIN + seed * 7) % 13) * 100;
    wh += power / 60;
    out.push({ ts, energy_wh: Math.round(wh * 1000) / 1000, power_w: power });
  }
  const truth: GroundTruthLine[] = out.map((r, i) => ({ deviceId: device, municipality, kind: 'energy', seq: i, ts: r.ts, trueTs: r.ts, reading: r, fault: null, status: 'acked' }));
  return { out, truth };
}

/** Publishes the readings over MQTT in order, `perMessage` to a message (QoS 1, each acknowledged). */
export async function publishReadings(url: string, device: { id: string; secret: string; municipality: string }, readings: EnergyReadingOut[], perMessage = 1): Promise<void> {
  const { default: mqtt } = await import('mqtt');
  const c = await mqtt.connectAsync(url, { clientId: device.id, username: device.id, password: device.secret, reconnectPeriod: 0 });
  for (let i = 0; i < readings.length; i += perMessage) {
    const chunk = readings.slice(i, i + perMessage);
    await c.publishAsync(`city/${device.municipality}/energy/${device.id}/telemetry`, JSON.stringify(perMessage === 1 ? chunk[0] : chunk), { qos: 1 });
  }
  await c.endAsync();
}
