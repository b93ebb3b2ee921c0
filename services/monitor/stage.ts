/** The pipeline monitor in the stage catalogue (a deployment's; `npm start` has no Grafana to feed). */
import { storeReadiness } from '../../shared/http/ops-server.ts';
import { defineStage } from '../../shared/stages/stage.ts';
import { monitorEnv } from './config.ts';
import { httpSource, startMonitor } from './monitor.ts';

export const monitorStage = defineStage({
  name: 'monitor',
  env: monitorEnv,
  singleNode: false,
  carriesReadings: false,
  async start(cfg, deps) {
    // `pipeline` is not an aggregate measurement: it goes to the raw bucket.
    const store = deps.store();
    const monitor = startMonitor({ sources: cfg.MONITOR_TARGETS.map((t) => httpSource(t.service, t.url)), write: (p) => store.write(p), intervalMs: cfg.MONITOR_INTERVAL_MS, log: deps.log, registry: deps.registry });
    return { readiness: storeReadiness(store), stop: async () => monitor.stop(), describe: { targets: cfg.MONITOR_TARGETS.map((t) => t.service), intervalMs: cfg.MONITOR_INTERVAL_MS } };
  },
});
