/**
 * `npm run simulate -- --devices N --rate R --duration D --municipality M --seed S …`
 * Publishes simulated energy meters, fleet trackers and parking bays through the gateway, with a
 * progress bar and a summary (sent, acknowledged, refused); writes the ground truth to a file.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { defaultRegistryPath, type DeviceRegistry } from '#shared/registry/device-registry.ts';
import { openDeviceRegistry } from '#shared/engines.ts';
import { createLogger } from '#shared/logging.ts';
import { FAULTS, defaultFaults, parseFaults } from './faults.ts';
import { MUNICIPALITIES } from './municipalities.ts';
import { runSimulation, simulationDefaults } from './runner.ts';
import { duration, positive } from '#shared/cli-args.ts';

const d = simulationDefaults();
const dataDir = process.env.DATA_DIR ?? 'data';

const program = new Command('simulate')
  .description('simulated municipal devices publishing over MQTT')
  .option('--mqtt-url <url>', 'gateway address', process.env.MQTT_URL ?? `mqtt://127.0.0.1:${process.env.MQTT_PORT ?? 1883}`)
  .option('--devices <n>', 'number of devices, spread over municipalities and kinds', positive, d.devices)
  .option('--rate <r>', 'messages per second per device', positive, d.rate)
  .option('--batch <b>', 'readings per message (array payload when > 1)', positive, d.batch)
  .option('--duration <d>', 'how long to publish (e.g. 30s, 5m)', duration())
  .option('--count <n>', 'messages per device', positive)
  .option('--municipality <m...>', `municipalities (${MUNICIPALITIES.map((m) => m.id).join(', ')})`, d.municipalities)
  .option('--seed <s>', 'random seed: the same seed gives the same devices and readings', positive, d.seed)
  .addOption(new Option('--qos <q>', 'MQTT QoS').choices(['0', '1']).default('1'))
  .addOption(new Option('--format <f>', 'payload format').choices(['native', 'senml']).default('native'))
  .option('--sim-start <iso>', 'simulated clock start (ISO-8601); live clock when absent')
  .option('--sim-step <d>', 'simulated time between readings', duration(), d.simStepMs)
  .option('--faults <list>', `comma-separated: ${FAULTS.join(', ')}`, '')
  .option('--fault-rate <p>', 'chance per message of a fault', positive, defaultFaults().rate)
  .option('--id-prefix <p>', 'prefix for device ids (to run separate fleets)', '')
  .option('--registry <file>', `a device registry file (default: DEVICE_REGISTRY, else the central registry with DEVICE_REGISTRY_TOPIC, else ${defaultRegistryPath(dataDir)})`)
  .option('--secrets <file>', "the simulated devices' own secret store", join(dataDir, 'simulator', 'secrets.json'))
  .option('--ground-truth <file>', 'where to write what was sent (JSON lines)')
  .option('--quiet', 'no progress bar');

program.parse();
const o = program.opts<{
  mqttUrl: string; devices: number; rate: number; batch: number; duration?: number; count?: number; municipality: string[];
  seed: number; qos: '0' | '1'; format: 'native' | 'senml'; simStart?: string; simStep: number; faults: string; faultRate: number;
  idPrefix: string; registry?: string; secrets: string; groundTruth?: string; quiet?: boolean;
}>();

let registry: DeviceRegistry | undefined;
try {
  if (o.duration === undefined && o.count === undefined) o.duration = 30_000;
  const simStart = o.simStart === undefined ? undefined : Date.parse(o.simStart);
  if (simStart !== undefined && Number.isNaN(simStart)) throw new Error(`--sim-start: '${o.simStart}' is not an ISO-8601 time`);
  const bar = o.quiet ? undefined : new SingleBar({ format: '{bar} {percentage}% | sent {sent} | acked {acked} | refused {refused}', stream: process.stderr }, Presets.shades_classic);
  const planned = o.count !== undefined ? o.count * o.devices : undefined;
  const t0 = Date.now();
  bar?.start(planned ?? o.duration!, 0, { sent: 0, acked: 0, refused: 0 });
  const summary = await runSimulation({
    ...d,
    mqttUrl: o.mqttUrl,
    devices: o.devices,
    rate: o.rate,
    batch: o.batch,
    durationMs: o.duration,
    count: o.count,
    municipalities: o.municipality,
    seed: o.seed,
    qos: o.qos === '0' ? 0 : 1,
    format: o.format,
    simStart,
    simStepMs: o.simStep,
    faults: { ...defaultFaults(), enabled: parseFaults(o.faults), rate: o.faultRate },
    idPrefix: o.idPrefix,
    ...(o.registry ? { registryPath: o.registry } : { registry: (registry = (await openDeviceRegistry(process.env, { service: 'simulator', log: createLogger('simulate', process.env.LOG_LEVEL ?? 'warn'), dataDir })).engine) }),
    secretsPath: o.secrets,
    groundTruthPath: o.groundTruth ?? join(dataDir, 'simulator', `ground-truth-seed${o.seed}.jsonl`),
    onProgress: (p) => bar?.update(planned !== undefined ? p.sent : Math.min(Date.now() - t0, o.duration!), { ...p }),
  });
  bar?.stop();
  const secs = summary.elapsedMs / 1000;
  console.log(
    `devices ${summary.devices} (refused at connect: ${summary.devicesRefused.length}) · messages sent ${summary.sent}, acknowledged ${summary.acked}, refused ${summary.refused}, unacknowledged ${summary.unacked}`,
  );
  console.log(`readings sent ${summary.readingsSent}, acknowledged ${summary.readingsAcked} in ${secs.toFixed(1)}s (${Math.round(summary.readingsSent / secs)} readings/s)`);
  console.log(`ground truth: ${summary.groundTruthPath}`);
  await registry?.close();
  process.exit(summary.devicesRefused.length > 0 || summary.refused > 0 || summary.unacked > 0 ? 1 : 0);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}
