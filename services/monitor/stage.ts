/** The pipeline monitor in the stage catalogue (a deployment's; `npm start` has no Grafana to feed). */
import { storeReadiness } from '../../shared/http/ops-server.ts';
import { defaultOpsPort, defineStage, type StageDefinition } from '../../shared/stages/stage.ts';
import { monitorEnv } from './config.ts';
import { httpSource, startMonitor } from './monitor.ts';

export const monitorStage = defineStage({
  name: 'monitor',
  env: monitorEnv,
  singleNode: false,
  thread: 'front',
  carriesReadings: false,
  // The pipeline's own metrics go beside the raw readings (the Pipeline health dashboard).
  rights: { store: { read: [], write: ['raw'] } },
  async start(cfg, deps) {
    // `pipeline` is not an aggregate measurement: it goes to the raw bucket.
    const store = deps.store();
    const targets = cfg.MONITOR_TARGETS.length > 0 ? cfg.MONITOR_TARGETS : defaultTargets(deps.stages());
    const monitor = startMonitor({ sources: targets.map((t) => httpSource(t.service, t.url)), write: (p) => store.write(p), intervalMs: cfg.MONITOR_INTERVAL_MS, log: deps.log, registry: deps.registry });
    return { readiness: storeReadiness(store), stop: async () => monitor.stop(), describe: { targets: targets.map((t) => t.service), intervalMs: cfg.MONITOR_INTERVAL_MS } };
  },
});

/** Every other stage, on this machine at its default ops port: what one host running them all exposes. */
export function defaultTargets(stages: readonly StageDefinition[]): { service: string; url: string }[] {
  return stages.filter((s) => s.name !== monitorStage.name).map((s) => ({ service: s.name, url: `http://127.0.0.1:${defaultOpsPort(s)}/metrics` }));
}
