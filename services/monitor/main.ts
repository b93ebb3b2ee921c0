/** Pipeline monitor process: wiring only. */
import { loadConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer, storeReadiness } from '../../shared/http/ops-server.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { createLogger } from '../../shared/logging.ts';
import { onShutdown } from '../../shared/shutdown.ts';
import { monitorEnv } from './config.ts';
import { httpSource, startMonitor } from './monitor.ts';

const cfg = loadConfig(monitorEnv);
const log = createLogger('monitor', cfg.LOG_LEVEL);
const registry = createMetricsRegistry('monitor');
// `pipeline` is not an aggregate measurement: it goes to the raw bucket.
const store = new InfluxTelemetryStore(cfg);
const monitor = startMonitor({ sources: cfg.MONITOR_TARGETS.map((t) => httpSource(t.service, t.url)), write: (p) => store.write(p), intervalMs: cfg.MONITOR_INTERVAL_MS, log, registry });
const ops = await startOpsServer({
  port: cfg.OPS_PORT,
  registry,
  readiness: storeReadiness(store),
});
log.info({ targets: cfg.MONITOR_TARGETS.map((t) => t.service), opsPort: ops.port, intervalMs: cfg.MONITOR_INTERVAL_MS }, 'monitor running');

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  monitor.stop();
  await ops.app.close();
});
