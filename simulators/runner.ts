/**
 * Runs a simulation: provisions the devices, connects one MQTT client per device (client id =
 * device id, username = device id, password = its secret), publishes their readings at the asked
 * rate, counts what the gateway acknowledged, and writes the ground truth — every reading sent,
 * with its outcome — as JSON lines, so tests can compare what arrived with what was sent.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import net from 'node:net';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';
import { DeviceRegistry } from '#shared/registry/device-registry.ts';
import { statusTopic, telemetryTopic, type Kind } from '#shared/schemas/topics.ts';
import { ensureCredentials } from './credentials.ts';
import { MALFORMATIONS, defaultFaults, type Fault, type FaultOptions } from './faults.ts';
import { planDevices, type SimDevice } from './fleet-plan.ts';
import { expectedAlarms, scheduleIncidents, silencedAt, withIncidents, type ExpectedAlarm } from './incidents.ts';
import { encode, type Format, type Reading } from './payload.ts';
import { Rng } from './rng.ts';
import { sleep } from '#shared/time.ts';

export interface SimulationOptions {
  mqttUrl: string;
  devices: number;
  municipalities: string[];
  /** Messages per second per device. */
  rate: number;
  /** Readings per message (an array payload when > 1). */
  batch: number;
  /** Messages per device; the run ends at `count` or `durationMs`, whichever comes first. */
  count?: number;
  durationMs?: number;
  seed: number;
  qos: 0 | 1;
  format: Format;
  /** Simulated clock: first reading's time (epoch ms) and step between readings. Live clock when absent. */
  simStart?: number;
  simStepMs: number;
  faults: FaultOptions;
  /** The registry file the simulated devices are registered in, unless `registry` is given. */
  registryPath?: string;
  /** The registry itself (the central one, opened by the caller). */
  registry?: DeviceRegistry;
  secretsPath: string;
  groundTruthPath: string;
  idPrefix?: string;
  drainTimeoutMs: number;
  /** Messages not yet acknowledged before publishing pauses. */
  maxInflight: number;
  onProgress?: (p: Progress) => void;
  /** Ends the run early (as if its duration were over). */
  signal?: AbortSignal;
  /**
   * How long a device whose connection is refused or times out keeps trying, with backoff, before
   * it counts as refused: real devices retry. 0 (the default): one attempt.
   */
  connectRetryMs?: number;
  /**
   * Local addresses the devices connect from, in turn (e.g. 127.0.1.1 … 127.0.1.50 on loopback):
   * a fleet comes from many addresses, and per-address limits then apply as they would in the field.
   */
  localAddresses?: string[];
  /** Each device's connections and acknowledgements as they happen: what the reconnect-storm benchmark measures. */
  onDeviceEvent?: (e: { deviceId: string; event: 'connect' | 'close' | 'ack'; at: number }) => void;
  /** Keep every PUBACK's wait (publish → PUBACK) for the summary: the benchmarks' figure, off in long runs. */
  recordAckWaits?: boolean;
  /**
   * With a simulated clock: incidents in the run's window (incidents.ts) — a meter's power spike,
   * a vehicle idling, lamps on by day, a full car park; with `'with-silence'` also a meter falling
   * silent (an alarm only where the run is paced in real time) — and the alarms they must cause,
   * written beside the ground truth (`<groundTruthPath>.alarms.json`) and returned.
   */
  incidents?: boolean | 'with-silence';
}

export interface Progress {
  planned: number | undefined;
  sent: number;
  acked: number;
  refused: number;
}

export interface SimulationSummary extends Progress {
  devices: number;
  devicesRefused: string[];
  readingsSent: number;
  readingsAcked: number;
  unacked: number;
  elapsedMs: number;
  groundTruthPath: string;
  /** Each acknowledged message's wait for its PUBACK, ms (with `recordAckWaits`). */
  ackWaitsMs?: number[];
  /** The alarms the run's incidents must cause (with `incidents`). */
  expectedAlarms?: ExpectedAlarm[];
}

export interface GroundTruthLine {
  deviceId: string;
  municipality: string;
  kind: Kind;
  /** The reading's index in its device's stream. */
  seq: number;
  /** Timestamp as sent (with clock skew, if any). */
  ts: number;
  /** Timestamp by the simulation's true clock. */
  trueTs: number;
  reading: Reading;
  fault: Fault | null;
  status: 'acked' | 'refused' | 'unacked' | 'sent';
}

export const simulationDefaults = (): Omit<SimulationOptions, 'registryPath' | 'registry' | 'secretsPath' | 'groundTruthPath'> => ({
  mqttUrl: 'mqtt://127.0.0.1:1883',
  devices: 12,
  municipalities: ['petroupoli', 'mytilene', 'kalamata', 'orestiada'],
  rate: 1,
  batch: 1,
  seed: 1,
  qos: 1,
  format: 'native',
  simStepMs: 60_000,
  faults: defaultFaults(),
  drainTimeoutMs: 30_000,
  maxInflight: 20_000,
});

interface Message {
  payload: string;
  lines: GroundTruthLine[];
}

interface DeviceRun {
  device: SimDevice;
  rng: Rng;
  client: MqttClient | undefined;
  /** The wait before its next reconnect attempt (doubling, jittered; reset once connected). */
  backoffMs: number;
  skewMs: number;
  nextSeq: number;
  lastTs: number;
  held: { due: number; msg: Message }[];
  messages: number;
}


export async function runSimulation(opts: SimulationOptions): Promise<SimulationSummary> {
  const rng = new Rng(opts.seed);
  const planned = planDevices({ count: opts.devices, municipalities: opts.municipalities, rng, idPrefix: opts.idPrefix });
  const incidents = opts.incidents && opts.simStart !== undefined && opts.count !== undefined ? scheduleIncidents(planned, opts.simStart, opts.simStart + opts.count * opts.simStepMs, { silence: opts.incidents === 'with-silence' }) : [];
  const devices = planned.map((d) => ({ ...d, model: withIncidents(d.model, incidents.filter((i) => i.deviceId === d.deviceId)) }));
  const silenced = new Map(devices.map((d) => [d.deviceId, incidents.filter((i) => i.deviceId === d.deviceId)]));
  const alarms = opts.incidents ? expectedAlarms(incidents) : undefined;
  if (alarms) {
    mkdirSync(dirname(opts.groundTruthPath), { recursive: true });
    writeFileSync(`${opts.groundTruthPath}.alarms.json`, `${JSON.stringify(alarms, null, 2)}\n`);
  }
  if (!opts.registry && opts.registryPath === undefined) throw new Error('a simulation needs a device registry (registry or registryPath)');
  const secrets = await ensureCredentials(opts.registry ?? new DeviceRegistry(opts.registryPath!), devices, opts.secretsPath);
  mkdirSync(dirname(opts.groundTruthPath), { recursive: true });
  const truth = createWriteStream(opts.groundTruthPath);
  const f = opts.faults;
  const progress: Progress = { planned: opts.count !== undefined ? opts.count * devices.length : undefined, sent: 0, acked: 0, refused: 0 };
  let readingsSent = 0;
  let readingsAcked = 0;
  let inflight = 0;
  let unacked = 0;
  const devicesRefused: string[] = [];
  /** QoS 1 messages waiting for their PUBACK. */
  const pending = new Set<Message>();
  const ackWaitsMs: number[] | undefined = opts.recordAckWaits ? [] : undefined;

  const runs: DeviceRun[] = devices.map((device, i) => {
    const drng = rng.fork(`run:${device.deviceId}`);
    const skewed = f.enabled.has('clock-skew') && drng.chance(Math.max(f.rate, 0.1));
    return { device, rng: drng, client: undefined, backoffMs: RECONNECT_MIN_MS, skewMs: skewed ? (i % 2 ? f.skewMs : -f.skewMs) : 0, nextSeq: 0, lastTs: 0, held: [], messages: 0 };
  });

  let ending = false;
  await Promise.all(runs.map((r, i) => connect(r, opts.localAddresses?.length ? opts.localAddresses[i % opts.localAddresses.length] : undefined)));

  async function connect(r: DeviceRun, localAddress: string | undefined) {
    const id = r.device.deviceId;
    const giveUpAt = Date.now() + (opts.connectRetryMs ?? 0);
    for (let backoff = RECONNECT_MIN_MS; ; backoff = Math.min(backoff * 2, 5000)) {
      try {
        const client = await connectClient(
          opts.mqttUrl,
          {
            clientId: id,
            username: id,
            password: secrets.get(id),
            clean: true,
            reconnectPeriod: 0, // reconnects below: backoff with jitter, as devices do
            connectTimeout: 10_000,
            will: { topic: statusTopic(r.device), payload: Buffer.from('offline'), qos: 1, retain: true },
          },
          localAddress,
        );
        r.client = client;
        client.on('error', () => undefined); // a refused reconnect closes; the close schedules the next try
        client.on('connect', () => {
          r.backoffMs = RECONNECT_MIN_MS;
          opts.onDeviceEvent?.({ deviceId: id, event: 'connect', at: Date.now() });
        });
        client.on('close', () => {
          opts.onDeviceEvent?.({ deviceId: id, event: 'close', at: Date.now() });
          if (ending) return;
          // Jittered exponential backoff, so a fleet dropped at once does not return in step; the
          // stores are kept, so what was sent and not yet acknowledged is sent again.
          const wait = r.backoffMs * (0.5 + Math.random());
          r.backoffMs = Math.min(r.backoffMs * 2, RECONNECT_MAX_MS);
          setTimeout(() => {
            if (!ending && !client.connected) client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
          }, wait).unref();
        });
        opts.onDeviceEvent?.({ deviceId: id, event: 'connect', at: Date.now() });
        client.publish(statusTopic(r.device), 'online', { qos: 1, retain: true });
        return;
      } catch {
        if (Date.now() + backoff >= giveUpAt) {
          devicesRefused.push(id);
          return;
        }
        await sleep(backoff * (0.5 + Math.random() / 2)); // jittered, so refused devices do not return in step
      }
    }
  }

  const publish = (r: DeviceRun, msg: Message) => {
    const client = r.client;
    if (!client) return;
    progress.sent++;
    readingsSent += msg.lines.length;
    if (opts.qos === 0) {
      client.publish(telemetryTopic(r.device), msg.payload, { qos: 0 });
      writeTruth(truth, msg.lines, 'sent');
      return;
    }
    inflight++;
    pending.add(msg);
    const publishedAt = performance.now();
    client.publish(telemetryTopic(r.device), msg.payload, { qos: 1 }, (err) => {
      if (!pending.delete(msg)) return; // already written off as unacknowledged
      inflight--;
      if (err) {
        progress.refused++;
        writeTruth(truth, msg.lines, 'refused');
      } else {
        progress.acked++;
        readingsAcked += msg.lines.length;
        opts.onDeviceEvent?.({ deviceId: r.device.deviceId, event: 'ack', at: Date.now() });
        ackWaitsMs?.push(performance.now() - publishedAt);
        writeTruth(truth, msg.lines, 'acked');
      }
    });
  };

  /** The device's next message, or undefined while it is silenced (its readings are never made). */
  const nextMessage = (r: DeviceRun, nowMs: number, intervalMs: number): Message | undefined => {
    const lines: GroundTruthLine[] = [];
    for (let j = 0; j < opts.batch; j++) {
      const seq = r.nextSeq++;
      let trueTs =
        opts.simStart !== undefined
          ? opts.simStart + seq * opts.simStepMs + (devices.indexOf(r.device) * 7919) % Math.max(1, Math.min(opts.simStepMs, 60_000))
          : Math.round(nowMs - ((opts.batch - 1 - j) * intervalMs) / opts.batch);
      trueTs = Math.max(trueTs, r.lastTs + 1); // strictly increasing per device
      if (silencedAt(silenced.get(r.device.deviceId)!, trueTs)) continue;
      r.lastTs = trueTs;
      const reading = r.device.model.next(trueTs);
      lines.push({ deviceId: r.device.deviceId, municipality: r.device.municipality, kind: r.device.kind, seq, ts: trueTs + r.skewMs, trueTs, reading, fault: r.skewMs ? 'clock-skew' : null, status: 'unacked' });
    }
    if (lines.length === 0) return undefined;
    let payload = encode(opts.format, r.device.deviceId, r.device.kind, lines.map((l) => ({ ts: l.ts, reading: l.reading })));
    if (f.enabled.has('malformed') && r.rng.chance(f.rate)) {
      payload = r.rng.pick(MALFORMATIONS)(payload);
      for (const l of lines) l.fault = 'malformed';
    }
    return { payload, lines };
  };

  const storm = f.enabled.has('reconnect-storm')
    ? setInterval(() => runs.forEach((r) => r.client?.stream?.destroy()), f.stormEverySec * 1000)
    : undefined;

  const t0 = performance.now();
  const intervalMs = 1000 / opts.rate;
  const live = runs.filter((r) => r.client);
  for (let k = 0; ; k++) {
    if (opts.count !== undefined && k >= opts.count) break;
    if (opts.durationMs !== undefined && performance.now() - t0 >= opts.durationMs) break;
    if (opts.signal?.aborted) break;
    const wait = t0 + k * intervalMs - performance.now();
    if (wait > 1) await sleep(wait);
    while (inflight > opts.maxInflight) await sleep(2);
    const now = Date.now();
    for (const r of live) {
      const msg = nextMessage(r, now, intervalMs);
      if (!msg) continue;
      r.messages++;
      // Messages held back (out-of-order, late) go out once their turn comes.
      for (const h of r.held.filter((x) => x.due <= r.messages)) publish(r, h.msg);
      r.held = r.held.filter((x) => x.due > r.messages);
      if (f.enabled.has('out-of-order') && r.rng.chance(f.rate)) {
        for (const l of msg.lines) l.fault ??= 'out-of-order';
        r.held.push({ due: r.messages + 1, msg });
      } else if (f.enabled.has('late') && r.rng.chance(f.rate)) {
        for (const l of msg.lines) l.fault ??= 'late';
        r.held.push({ due: r.messages + f.lateBy, msg });
      } else {
        publish(r, msg);
        if (f.enabled.has('duplicates') && r.rng.chance(f.rate)) publish(r, { payload: msg.payload, lines: msg.lines.map((l) => ({ ...l, fault: 'duplicates' })) });
      }
    }
    opts.onProgress?.(progress);
  }
  for (const r of live) for (const h of r.held) publish(r, h.msg);
  if (storm) clearInterval(storm);

  const drainUntil = Date.now() + opts.drainTimeoutMs;
  while (inflight > 0 && Date.now() < drainUntil) {
    await sleep(20);
    opts.onProgress?.(progress);
  }
  unacked = pending.size;
  for (const msg of pending) writeTruth(truth, msg.lines, 'unacked');
  pending.clear();
  ending = true;
  await Promise.all(
    live.map(async (r) => {
      // A device cut off at the end has nobody to tell (and would wait for ever: it no longer reconnects).
      if (r.client!.connected) await r.client!.publishAsync(statusTopic(r.device), 'offline', { qos: 1, retain: true }).catch(() => undefined);
      await r.client!.endAsync(true);
    }),
  );
  await new Promise<void>((resolve) => truth.end(resolve));
  opts.onProgress?.(progress);
  return {
    ...progress,
    devices: devices.length,
    devicesRefused,
    readingsSent,
    readingsAcked,
    unacked,
    elapsedMs: Math.round(performance.now() - t0),
    groundTruthPath: opts.groundTruthPath,
    ...(ackWaitsMs ? { ackWaitsMs } : {}),
    ...(alarms ? { expectedAlarms: alarms } : {}),
  };
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;

/** Connects one device's client, from `localAddress` when given; rejects on a refusal, a timeout or a close before the CONNACK. */
function connectClient(url: string, options: IClientOptions, localAddress: string | undefined): Promise<MqttClient> {
  const u = new URL(url);
  const client = localAddress
    ? new MqttClient(() => net.createConnection({ host: u.hostname, port: Number(u.port || 1883), localAddress }), { ...options, host: u.hostname, port: Number(u.port || 1883) })
    : mqtt.connect(url, options);
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      client.removeListener('connect', ok);
      client.end(true);
      reject(err);
    };
    const ok = () => {
      client.removeListener('error', fail);
      client.removeListener('close', closed);
      resolve(client);
    };
    const closed = () => fail(new Error('closed before the CONNACK'));
    client.once('connect', ok);
    client.once('error', fail);
    client.once('close', closed);
  });
}

function writeTruth(out: WriteStream, lines: GroundTruthLine[], status: GroundTruthLine['status']) {
  out.write(lines.map((l) => JSON.stringify({ ...l, status })).join('\n') + '\n');
}
