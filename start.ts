/**
 * `npm start`: the whole pipeline on this machine with live simulated devices of the four default
 * municipalities. Until the embedded mode lands (issue 6), it runs on the local real engines:
 * Kafka and InfluxDB are installed once (cached) and started by `npm run services -- up`.
 * Every service runs as its own process, exactly as `npm run service -- NAME` runs it.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { down, serviceEnv, status, up } from './deploy/local-services/services.ts';
import { launchServices } from './deploy/local-services/launch.ts';
import { counterValue } from './shared/http/metrics-text.ts';
import { DeviceRegistry } from './shared/registry/device-registry.ts';
import { runSimulation, simulationDefaults } from './simulators/runner.ts';
import { MUNICIPALITIES } from './simulators/municipalities.ts';

const program = new Command('start')
  .description('run the whole pipeline on this machine with simulated devices')
  .option('--no-simulate', 'run without simulators (for real devices)')
  .option('--devices <n>', 'simulated devices', Number, 24)
  .option('--rate <r>', 'messages per second per simulated device', Number, 1)
  .option('--data-dir <dir>', 'where the registry, spool and logs live', process.env.DATA_DIR ?? 'data')
  .option('--mqtt-port <port>', 'MQTT port of the gateway', process.env.MQTT_PORT ?? '1883')
  .parse();
const o = program.opts<{ simulate: boolean; devices: number; rate: number; dataDir: string; mqttPort: string }>();

const say = (s: string) => console.log(s);
const ops = { gateway: '9101', normalizer: '9102', writer: '9103', aggregator: '9104' };
let stopping = false;

const alreadyUp = (await status()).every((s) => s.running);
say(alreadyUp ? 'local Kafka and InfluxDB already running' : 'starting local Kafka and InfluxDB (first time: installs them, a few minutes)…');
const { started } = alreadyUp ? { started: [] as string[] } : await up({ log: (l) => say(`  ${l}`) });
const env: Record<string, string> = { ...serviceEnv(), DATA_DIR: o.dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', MQTT_PORT: o.mqttPort };
mkdirSync(join(o.dataDir, 'logs'), { recursive: true });

const services = await launchServices({
  env,
  opsPorts: ops,
  output: (name) => createWriteStream(join(o.dataDir, 'logs', `${name}.log`), { flags: 'a' }),
  onExit: (name, code) => console.error(`\n${name} exited (${code}); see ${join(o.dataDir, 'logs', `${name}.log`)}`),
});

// A device for trying the gateway by hand, its secret kept beside the registry (mode 0600).
const registry = new DeviceRegistry(join(o.dataDir, 'devices.json'));
const demoFile = join(o.dataDir, 'demo-device.json');
let demo = existsSync(demoFile) ? (JSON.parse(readFileSync(demoFile, 'utf8')) as { id: string; secret: string }) : undefined;
if (!demo || !registry.active(demo.id)) {
  const id = 'kalamata-demo-meter';
  const secret = (await registry.provision([{ address: { municipality: 'kalamata', kind: 'energy', deviceId: id }, attributes: { building: 'town-hall-demo', district: 'kentro' } }])).get(id)!;
  demo = { id, secret };
  writeFileSync(demoFile, JSON.stringify(demo), { mode: 0o600 });
}

say(`
Pipeline running. Logs: ${join(o.dataDir, 'logs')}/
  MQTT          mqtt://127.0.0.1:${o.mqttPort}  (topics city/{municipality}/{kind}/{deviceId}/telemetry)
  ops           ${Object.entries(ops).map(([n, p]) => `${n} http://127.0.0.1:${p}/metrics`).join('\n                ')}
  InfluxDB      ${env.INFLUX_URL} bucket ${env.INFLUX_BUCKET} (raw: energy, fleet, parking; aggregates: energy_15m, fleet_1h, parking_15m)
  Kafka         ${env.KAFKA_BROKERS} (telemetry.raw, telemetry.normalized, telemetry.deadletter)
Try a device by hand:
  mosquitto_pub -h 127.0.0.1 -p ${o.mqttPort} -i ${demo.id} -u ${demo.id} -P '${demo.secret}' -q 1 \\
    -t city/kalamata/energy/${demo.id}/telemetry -m '{"energy_wh": 1234.5, "power_w": 800}'
(The KPI API and dashboard page come with issue 5; the embedded no-install mode with issue 6.)
`);

const abort = new AbortController();
const simulation = o.simulate
  ? runSimulation({
      ...simulationDefaults(),
      mqttUrl: `mqtt://127.0.0.1:${o.mqttPort}`,
      devices: o.devices,
      rate: o.rate,
      municipalities: MUNICIPALITIES.map((m) => m.id),
      durationMs: Number.MAX_SAFE_INTEGER,
      seed: Date.now() % 100_000,
      registryPath: join(o.dataDir, 'devices.json'),
      secretsPath: join(o.dataDir, 'simulator', 'secrets.json'),
      groundTruthPath: join(o.dataDir, 'simulator', 'ground-truth-live.jsonl'),
      signal: abort.signal,
    })
  : undefined;

// One live status line: readings/s stored, devices online, dead letters.
let lastWritten = 0;
let lastAt = Date.now();
const metric = async (service: keyof typeof ops, name: string) => counterValue(await (await fetch(`http://127.0.0.1:${ops[service]}/metrics`)).text(), name);
const statusTimer = setInterval(() => {
  void (async () => {
    const written = await metric('writer', 'writer_points_written_total');
    const online = await metric('gateway', 'gateway_connected_devices');
    const dead = await metric('normalizer', 'normalizer_deadletter_total');
    const now = Date.now();
    const rate = ((written - lastWritten) / (now - lastAt)) * 1000;
    lastWritten = written;
    lastAt = now;
    const line = `readings/s ${rate.toFixed(0).padStart(6)} · stored ${written} · devices online ${online} · dead letters ${dead}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
    else say(line);
  })().catch(() => undefined);
}, process.stdout.isTTY ? 2000 : 10_000);

const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(statusTimer);
  say('\nstopping…');
  abort.abort();
  await simulation?.catch(() => undefined);
  await services.stop();
  if (started.length > 0) await down(started);
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
