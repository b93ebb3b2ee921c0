/**
 * `npm run service -- NAME`: one stage of the catalogue as its own process, configured from the
 * environment, on Kafka and InfluxDB — what a container runs in production. The stage's own code
 * is in its folder; this file only opens the engines it asks for, serves its ops endpoints and
 * drains it on SIGTERM.
 */
import { ApiKeyStore, defaultApiKeysPath } from '#shared/auth/api-keys.ts';
import { ConfigError, loadConfig } from '#shared/config.ts';
import { checkEngineSettings, openBus, openDeviceRegistry, openStore } from '#shared/engines.ts';
import { createMetricsRegistry, startOpsServer } from '#shared/http/ops-server.ts';
import { createLogger } from '#shared/logging.ts';
import { exitOnFatal, onShutdown } from '#shared/shutdown.ts';
import type { StageDeps } from '#shared/stages/stage.ts';
import { restartWithNodeFlags } from '#shared/node-flags.ts';
import { niceThisProcess } from '#shared/thread-priority.ts';
import { CATALOGUE, STAGE_NAMES, stageNamed } from './catalogue.ts';

const name = process.argv[2] ?? '';
const stage = stageNamed(name);
if (!stage) {
  process.stderr.write(`usage: npm run service -- <${STAGE_NAMES.join('|')}>\n`);
  process.exit(2);
}
// Before anything is opened: when flags are missing, the process is replaced here.
const withoutFlags = restartWithNodeFlags(stage.nodeFlags ?? []);

const cfg = loadConfig(stage.env) as { LOG_LEVEL: string; DATA_DIR: string; OPS_PORT: number; SHUTDOWN_TIMEOUT_MS: number; STAGES_NICE?: number };
// The engines it will open, by its rights: a wrong Kafka or InfluxDB setting is the same one line.
const { consumes = [], produces = [], store: storeRights } = stage.rights;
try {
  checkEngineSettings(process.env, { bus: consumes.length + produces.length > 0, store: storeRights !== undefined });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
const log = createLogger(name, cfg.LOG_LEVEL);
if (withoutFlags) log.warn(`${name} ${withoutFlags}`);
// A stage that only works through the log (every such stage has STAGES_NICE) yields the CPU to a
// gateway or API sharing the machine, as in `npm start`; before anything starts, so every thread
// it has is lowered.
if (cfg.STAGES_NICE !== undefined) log.info(`${name} ${niceThisProcess(cfg.STAGES_NICE)}`);
const registry = createMetricsRegistry(name);
const closers: (() => void | Promise<void>)[] = [];

/** Each engine opened once, on first use. */
const once = <T>(open: () => T) => {
  let v: T | undefined;
  return () => (v ??= open());
};
// The registry is read whole before the stage starts: a gateway must not refuse a known device
// because it has not read the central registry yet.
// A town's edge holds its own towns' devices only (`EDGE_MUNICIPALITIES`).
const { EDGE_MUNICIPALITIES: municipalities } = cfg as { EDGE_MUNICIPALITIES?: string[] };
const devices = stage.rights.devices ? await openDeviceRegistry(process.env, { service: name, log, dataDir: cfg.DATA_DIR, create: true, municipalities }) : undefined;
if (devices) {
  log.info(devices.describe);
  closers.push(devices.engine.watch(() => log.info('device registry changed')), () => devices.engine.close());
}
const deps: StageDeps = {
  log,
  registry,
  onFatal: exitOnFatal(log),
  bus: once(() => {
    const bus = openBus(process.env, { service: name, log }).engine;
    closers.push(() => bus.close());
    return bus;
  }),
  store: once(() => openStore(process.env, { service: name }).engine),
  devices: () => {
    if (!devices) throw new Error(`${name} declares no use of the device registry (rights.devices)`);
    return devices.engine;
  },
  keys: once(() => new ApiKeyStore(defaultApiKeysPath(cfg.DATA_DIR))),
  stages: () => CATALOGUE,
};

const running = await stage.start(cfg, deps);
const ops = await startOpsServer({ port: cfg.OPS_PORT, registry, readiness: () => running.readiness() });
log.info({ opsPort: ops.port, ...running.describe }, `${name} running`);

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  await running.stop();
  await ops.app.close();
  for (const close of closers) await close();
});
