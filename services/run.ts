/**
 * `npm run service -- NAME`: one stage of the catalogue as its own process, configured from the
 * environment, on Kafka and InfluxDB — what a container runs in production. The stage's own code
 * is in its folder; this file only opens the engines it asks for, serves its ops endpoints and
 * drains it on SIGTERM.
 */
import { ApiKeyStore, defaultApiKeysPath } from '#shared/auth/api-keys.ts';
import { ConfigError, loadConfig } from '#shared/config.ts';
import { checkEngineSettings, openBus, openStore } from '#shared/engines.ts';
import { createMetricsRegistry, startOpsServer } from '#shared/http/ops-server.ts';
import { createLogger } from '#shared/logging.ts';
import { DeviceRegistry, defaultRegistryPath } from '#shared/registry/device-registry.ts';
import { exitOnFatal, onShutdown } from '#shared/shutdown.ts';
import type { StageDeps } from '#shared/stages/stage.ts';
import { CATALOGUE, STAGE_NAMES, stageNamed } from './catalogue.ts';

const name = process.argv[2] ?? '';
const stage = stageNamed(name);
if (!stage) {
  process.stderr.write(`usage: npm run service -- <${STAGE_NAMES.join('|')}>\n`);
  process.exit(2);
}

const cfg = loadConfig(stage.env) as { LOG_LEVEL: string; DATA_DIR: string; OPS_PORT: number; SHUTDOWN_TIMEOUT_MS: number; DEVICE_REGISTRY?: string };
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
const registry = createMetricsRegistry(name);
const closers: (() => void | Promise<void>)[] = [];

/** Each engine opened once, on first use. */
const once = <T>(open: () => T) => {
  let v: T | undefined;
  return () => (v ??= open());
};
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
  devices: once(() => {
    const devices = new DeviceRegistry(cfg.DEVICE_REGISTRY ?? defaultRegistryPath(cfg.DATA_DIR));
    closers.push(devices.watch(() => log.info('device registry reloaded')));
    return devices;
  }),
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
