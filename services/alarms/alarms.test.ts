/**
 * The alarm stage on the embedded log and store: readings in, alarms in the store — raised once
 * their condition has held, cleared when it ends — and the same alarms, no more, when the stage
 * stops while a condition is pending and a new one takes over; a silent registered device raises
 * an alarm by the wall clock, cleared when it is heard again.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import { SqliteBus } from '../../shared/embedded/sqlite-bus.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { toNormalizedMessage, type CanonicalReading } from '../../shared/schemas/readings.ts';
import { alarmOf, type AlarmRecord } from '../../shared/store/alarms.ts';
import { startAlarms } from './alarms.ts';
import { alarmsEnv } from './config.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 7, 8, 0);
const RULES = { defaults: [{ id: 'power-high', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000, forMinutes: 10 }, { id: 'quiet', type: 'silence', kind: 'parking', minutes: 0.05 }] };

const reading = (deviceId: string, minute: number, power_w: number): CanonicalReading => ({
  deviceId, municipality: 'kalamata', kind: 'energy', ts: T0 + minute * MIN, tsFromGateway: false, receivedAt: T0 + minute * MIN, gatewayId: 'gw', attrs: {}, values: { energy_wh: 1000 + minute, power_w },
});
/** m-1 draws 6 kW from minute 3 to 17 (an alarm from 3, cleared at 18); m-2 draws 6 kW for 5 minutes only (none). */
const stream = Array.from({ length: 30 }, (_, m) => [reading('m-1', m, m >= 3 && m < 18 ? 6000 : 800), reading('m-2', m, m >= 10 && m < 15 ? 6000 : 500)]).flat();

async function fixture(webhookUrl?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'alarms-'));
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(RULES));
  writeFileSync(join(dir, 'webhooks.json'), JSON.stringify(webhookUrl ? { kalamata: { url: webhookUrl, secret: 'kalamata-webhook-secret' } } : {}));
  const bus = new SqliteBus(join(dir, 'bus.db'));
  await bus.ensureTopics(['normalized', 'dead'].map((topic) => ({ topic, partitions: 2 })));
  const store = new SqliteStore(join(dir, 'store.db'));
  const devices = new DeviceRegistry(join(dir, 'devices.json'));
  const cfg = parseConfig(alarmsEnv, { TOPIC_NORMALIZED: 'normalized', TOPIC_DEADLETTER: 'dead', BUS_GROUP_ID: 'alarms', DATA_DIR: dir, ALARM_RULES: join(dir, 'rules.json'), ALARM_WEBHOOKS: join(dir, 'webhooks.json'), ALARM_TICK_MS: '100' });
  const start = () => startAlarms(cfg, { bus, store, devices, log: createLogger('t', 'silent'), registry: new Registry(), onFatal: () => undefined, deadLetterStage: 'alarm' });
  const send = async (readings: CanonicalReading[]) => {
    const p = await bus.producer();
    await p.send('normalized', readings.map((r) => ({ key: r.deviceId, value: JSON.stringify(toNormalizedMessage([r])) })));
    await p.close();
  };
  const drained = async () => {
    for (let i = 0; i < 500 && bus.lag('alarms', 'normalized') > 0; i++) await new Promise((r) => setTimeout(r, 20));
  };
  const alarms = async () => (await store.alarmPoints({ from: 0, to: T0 + 365 * 24 * 60 * MIN })).map(alarmOf) as AlarmRecord[];
  return { dir, bus, store, devices, start, send, drained, alarms, close: async () => (await bus.close(), await store.close()) };
}

/** A stage that reads `readings` to the end and stops. */
async function runThrough(f: Awaited<ReturnType<typeof fixture>>, readings: CanonicalReading[]) {
  const w = await f.start();
  await f.send(readings);
  await f.drained();
  await w.stop();
}

describe('the alarm stage', () => {
  it('raises an alarm once its condition has held, with its readings, and clears it when it ends; a short excess raises nothing', async () => {
    const f = await fixture();
    await runThrough(f, stream);
    const got = await f.alarms();
    expect(got.map((a) => [a.subject, a.ruleId, a.raisedAt, a.clearedAt])).toEqual([['m-1', 'power-high', T0 + 3 * MIN, T0 + 18 * MIN]]);
    expect(got[0]!.evidence.length).toBeGreaterThan(0);
    await f.close();
  });

  it('gives the same alarms when it stops while a condition is pending and another instance takes over', async () => {
    const whole = await fixture();
    await runThrough(whole, stream);

    const f = await fixture();
    // Up to minute 8: m-1's condition is pending (held 5 of 10 minutes) when the stage stops.
    await runThrough(f, stream.filter((r) => r.ts < T0 + 8 * MIN));
    expect(await f.alarms()).toEqual([]);
    const committed = [...(await f.bus.committed('alarms', 'normalized')).values()].reduce((n, c) => n + Number(c.offset), 0);
    expect(committed).toBeLessThan(stream.filter((r) => r.ts < T0 + 8 * MIN).length); // held back to where it began
    await runThrough(f, stream.filter((r) => r.ts >= T0 + 8 * MIN));
    expect(await f.alarms()).toEqual(await whole.alarms());
    await whole.close();
    await f.close();
  });

  it('notifies each transition once, and a new instance after a stop sends nothing again', async () => {
    const got: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        got.push(String(req.headers['x-smartcity-delivery']));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const f = await fixture(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const w = await f.start();
    await f.send(stream.filter((r) => r.ts < T0 + 20 * MIN));
    await f.drained();
    for (let i = 0; i < 200 && (await f.alarms())[0]?.notified?.cleared === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    await w.stop();
    const [alarm] = await f.alarms();
    expect(got).toEqual([`${alarm!.alarmId}:raised`, `${alarm!.alarmId}:cleared`]);
    expect(alarm!.notified?.raised).toBeGreaterThan(0); // recorded, so a restart does not send it again
    expect(alarm!.notified?.cleared).toBeGreaterThan(0);
    await runThrough(f, stream.filter((r) => r.ts >= T0 + 20 * MIN));
    expect(got).toHaveLength(2);
    server.closeAllConnections();
    server.close();
    await f.close();
  });

  it('raises silence for a registered device by the wall clock, once, and clears it when the device is heard', async () => {
    const f = await fixture();
    await f.devices.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'bay-1' });
    const w = await f.start();
    for (let i = 0; i < 100 && (await f.alarms()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500)); // further ticks raise nothing more
    const raised = await f.alarms();
    expect(raised.map((a) => [a.subject, a.ruleId, a.clearedAt])).toEqual([['bay-1', 'quiet', undefined]]);
    const now = Date.now();
    await f.send([{ deviceId: 'bay-1', municipality: 'kalamata', kind: 'parking', ts: now, tsFromGateway: false, receivedAt: now, gatewayId: 'gw', attrs: {}, values: { occupied: true } }]);
    await f.drained();
    await w.stop();
    expect((await f.alarms()).map((a) => [a.alarmId, a.clearedAt])).toEqual([[raised[0]!.alarmId, now]]);
    await f.close();
  });
});
