/** KPI API process: wiring only. */
import { ApiKeyStore, defaultApiKeysPath } from '../../shared/auth/api-keys.ts';
import { loadConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer, storeReadiness } from '../../shared/http/ops-server.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry, defaultRegistryPath } from '../../shared/registry/device-registry.ts';
import { onShutdown } from '../../shared/shutdown.ts';
import { buildKpiApp } from './app.ts';
import { kpiApiEnv } from './config.ts';
import { Kpis } from './kpis.ts';

const cfg = loadConfig(kpiApiEnv);
const log = createLogger('kpi-api', cfg.LOG_LEVEL);
const registry = createMetricsRegistry('kpi-api');
const store = new InfluxTelemetryStore(cfg);
const devices = new DeviceRegistry(defaultRegistryPath(cfg.DATA_DIR));
const stopWatching = devices.watch(() => undefined);
const keys = new ApiKeyStore(defaultApiKeysPath(cfg.DATA_DIR));

const app = await buildKpiApp({
  kpis: new Kpis(store, () => devices.list().filter((d) => !d.revokedAt)),
  keys,
  log,
  registry,
  municipalities: () => [...new Set(devices.list().map((d) => d.municipality))].sort(),
  rateLimitPerMinute: cfg.KPI_RATE_LIMIT_PER_MIN,
  authFailuresPerMinute: cfg.KPI_AUTH_FAILURES_PER_MIN,
});
await app.listen({ port: cfg.HTTP_PORT, host: cfg.HTTP_HOST });
const ops = await startOpsServer({
  port: cfg.OPS_PORT,
  registry,
  readiness: storeReadiness(store),
});
log.info({ port: cfg.HTTP_PORT, opsPort: ops.port, bucket: cfg.INFLUX_BUCKET, keys: keys.path }, 'KPI API running');

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  stopWatching();
  await app.close();
  await ops.app.close();
});
