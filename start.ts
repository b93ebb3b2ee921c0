/**
 * `npm start`: the whole pipeline in one process on this machine, with nothing else installed or
 * running — the gateway (MQTT on 1883, device authentication as always), the normaliser, writer
 * and aggregator, the KPI API and its dashboard page, on an embedded log and store in the data
 * directory — and simulated devices of the four default municipalities publishing live over MQTT.
 * Setting KAFKA_BROKERS and/or INFLUX_URL runs the same stages on the real engines instead.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { duration, positive } from './shared/cli-args.ts';
import { ConfigError, parseConfig } from './shared/config.ts';
import { createLogger, logFile, logFileLimits } from './shared/logging.ts';
import { ensureDemoDevice, issueDemoKeys } from './services/npm-start/demo.ts';
import { singleNodeEnv } from './services/npm-start/config.ts';
import { SINGLE_NODE_STAGES, startSingleNode, type SingleNode } from './services/npm-start/node.ts';
import { sampleStatus, statusLine } from './services/npm-start/status.ts';
import { MUNICIPALITIES } from './simulators/municipalities.ts';
import { runSimulation, simulationDefaults, type SimulationOptions } from './simulators/runner.ts';


const program = new Command('start')
  .description('run the whole pipeline on this machine: MQTT gateway, stream workers, KPI API and dashboard page, simulated devices')
  .option('--no-simulate', 'run without simulators (for real devices)')
  .option('--devices <n>', 'simulated devices, spread over the four municipalities', positive, 24)
  .option('--rate <r>', 'messages per second per simulated device', positive, 1)
  .option('--backfill <duration>', 'on the first start, simulated history published first so the charts have data at once (0 = none)', duration(true), 3 * 3_600_000)
  .option('--data-dir <dir>', 'where the embedded log and store, registry, keys and logs live (DATA_DIR)')
  .option('--mqtt-port <port>', 'MQTT port (MQTT_PORT, default 1883)')
  .option('--http-port <port>', 'KPI API and dashboard page (HTTP_PORT, default 8080)')
  .addHelpText(
    'after',
    `
Environment:
  KAFKA_BROKERS     use Kafka for the bus instead of the embedded log (e.g. 127.0.0.1:9092)
  INFLUX_URL        use InfluxDB for the store instead of the embedded database (with INFLUX_TOKEN,
                    INFLUX_ORG, INFLUX_BUCKET, INFLUX_AGG_BUCKET)
  LOG_LEVEL         info; logs go to <data dir>/logs/pipeline.log
  OPS_PORT_BASE     9100: /healthz /readyz /metrics of gateway, normalizer, writer, aggregator, kpi-api on 9101-9105`,
  )
  .parse();
const o = program.opts<{ simulate: boolean; devices: number; rate: number; backfill: number; dataDir?: string; mqttPort?: string; httpPort?: string }>();

const env: NodeJS.ProcessEnv = { ...process.env };
if (o.dataDir) env.DATA_DIR = o.dataDir;
if (o.mqttPort) env.MQTT_PORT = o.mqttPort;
if (o.httpPort) env.HTTP_PORT = o.httpPort;

/** Bad configuration stops with one line naming the setting. */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

let cfg;
try {
  cfg = parseConfig(singleNodeEnv, env);
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}
mkdirSync(join(cfg.DATA_DIR, 'logs'), { recursive: true });
const logPath = join(cfg.DATA_DIR, 'logs', 'pipeline.log');

const fatalLog = createLogger('start', cfg.LOG_LEVEL, logFile(logPath, logFileLimits(cfg)));
// A fatal error is written to the log file (synchronously) before the process ends, not only to the console.
const fatal = (kind: string) => (err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  fatalLog.fatal({ err: e.message, code: (e as NodeJS.ErrnoException).code, stack: e.stack }, kind);
  console.error(`\nnpm start stopped: ${e.message} (see ${logPath})`);
  process.exit(1);
};
process.on('uncaughtException', fatal('uncaught exception'));
process.on('unhandledRejection', fatal('unhandled rejection'));
let node: SingleNode;
try {
  node = await startSingleNode(cfg, env, {
    logPath,
    onFatal: (stage, err) => {
      // Into the log file too, so the reason survives the console.
      fatalLog.fatal({ stage, err: err.message }, 'stage stopped for good');
      console.error(`\n${stage} stopped: ${err.message} (see ${logPath})`);
      process.exit(1);
    },
  });
} catch (err) {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e.code === 'EADDRINUSE') fail(`port ${e.port ?? ''} is in use (another npm start?): set MQTT_PORT / HTTP_PORT / HTTP_INGEST_PORT / OPS_PORT_BASE, or --mqtt-port / --http-port`);
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

const municipalities = MUNICIPALITIES.map((m) => m.id);
const keys = issueDemoKeys(node.keys, municipalities);
const demo = await ensureDemoDevice(node.devices, cfg.DATA_DIR);
/** The address to print: the bound host, or this machine's loopback when bound to every interface. */
const shown = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
const page = `http://${shown(cfg.HTTP_HOST)}:${cfg.HTTP_PORT}`;
const say = (s: string) => console.log(s);
const ingestPort = node.described.gateway?.httpIngestPort;
const ingest = `http://${shown(cfg.MQTT_HOST)}:${typeof ingestPort === 'number' ? ingestPort : cfg.HTTP_INGEST_PORT}/ingest/v1`;
say(`
Smart-city pipeline running — bus: ${node.engines.describe.bus}; store: ${node.engines.describe.store}

  Dashboard page  ${page}/  (open a municipality's link below, or sign in with its key)
  KPI API         ${page}/api/v1/…  ·  OpenAPI ${page}/openapi.json
  API keys, one per municipality (new ones each start):
${[...keys].map(([m, k]) => `    ${m.padEnd(11)} ${k}\n                ${page}/#key=${k}`).join('\n')}
  MQTT            mqtt://${shown(cfg.MQTT_HOST)}:${cfg.MQTT_PORT}  (topics city/{municipality}/{kind}/{deviceId}/telemetry)${cfg.MQTT_HOST === '127.0.0.1' ? '  — this machine only; MQTT_HOST=0.0.0.0 opens it to the network' : ''}
  HTTP ingest     ${ingest}/{municipality}/{kind}/{deviceId}  (the device's secret as Bearer token)
  Logs            ${logPath}

Try a device by hand, then see it in the API:
  mosquitto_pub -h ${shown(cfg.MQTT_HOST)} -p ${cfg.MQTT_PORT} -i ${demo.id} -u ${demo.id} -P '${demo.secret}' -q 1 \\
    -t city/${demo.municipality}/energy/${demo.id}/telemetry -m '{"energy_wh": 1234.5, "power_w": 800}'
  curl -s -H "Authorization: Bearer ${demo.secret}" -d '{"energy_wh": 1240.1, "power_w": 790}' ${ingest}/${demo.municipality}/energy/${demo.id}
  curl -s -H "Authorization: Bearer ${keys.get(demo.municipality)}" ${page}/api/v1/municipalities/${demo.municipality}/health
`);

// Simulated devices: on the first start, a few hours of history (so the page has charts at once), then live.
const abort = new AbortController();
const simulation = async () => {
  const base: SimulationOptions = {
    ...simulationDefaults(),
    mqttUrl: `mqtt://${shown(cfg.MQTT_HOST)}:${cfg.MQTT_PORT}`,
    devices: o.devices,
    municipalities,
    seed: 2026,
    registryPath: node.devices.path,
    secretsPath: join(cfg.DATA_DIR, 'simulator', 'secrets.json'),
    groundTruthPath: join(cfg.DATA_DIR, 'simulator', 'ground-truth-live.jsonl'),
    signal: abort.signal,
    rate: o.rate,
  };
  const firstStart = (await node.engines.store.lastSeen({ since: Date.now() - 30 * 86_400_000 })).length === 0;
  if (firstStart && o.backfill > 0) {
    const steps = Math.floor(o.backfill / 60_000);
    say(`first start: publishing ${Math.round(o.backfill / 60_000)} minutes of simulated history through MQTT…`);
    // With a few incidents (a meter's power spike, a vehicle idling, lamps on by day): alarms to see at once (npm run alarms -- list).
    const history = await runSimulation({ ...base, rate: 40, count: steps, simStart: Date.now() - steps * 60_000, simStepMs: 60_000, incidents: true, groundTruthPath: join(cfg.DATA_DIR, 'simulator', 'ground-truth-backfill.jsonl') });
    if (history.expectedAlarms?.length) say(`the history holds ${history.expectedAlarms.length} incidents; their alarms: npm run alarms -- list --municipality ${history.expectedAlarms[0]!.municipality}`);
  }
  if (!abort.signal.aborted) await runSimulation({ ...base, durationMs: Number.MAX_SAFE_INTEGER });
};
const simulating = o.simulate ? simulation().catch((err: Error) => console.error(`simulator stopped: ${err.message}`)) : undefined;

let last = await sampleStatus(SINGLE_NODE_STAGES, node.metrics);
const statusTimer = setInterval(
  () =>
    void sampleStatus(SINGLE_NODE_STAGES, node.metrics).then((now) => {
      const line = statusLine(last, now);
      last = now;
      if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
      else say(line);
    }),
  process.stdout.isTTY ? 2000 : 10_000,
);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(statusTimer);
  say('\nstopping…');
  abort.abort();
  await simulating;
  await node.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
