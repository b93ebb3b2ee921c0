/** The KPI API in the stage catalogue. */
import { storeReadiness } from '../../shared/http/ops-server.ts';
import { defineStage } from '../../shared/stages/stage.ts';
import { buildKpiApp } from './app.ts';
import { kpiApiEnv } from './config.ts';
import { AlarmNotes, defaultAlarmNotesPath } from './alarm-notes.ts';
import { Kpis } from './kpis.ts';
import { vehiclePrivacyIn } from './vehicle-privacy.ts';

export const kpiApiStage = defineStage({
  name: 'kpi-api',
  env: kpiApiEnv,
  singleNode: true,
  thread: 'front',
  carriesReadings: false,
  rights: { store: { read: ['raw', 'aggregates'], write: [] }, devices: 'read' },
  async start(cfg, deps) {
    const store = deps.store();
    const devices = deps.devices();
    const app = await buildKpiApp({
      kpis: new Kpis(store, () => devices.list().filter((d) => !d.revokedAt)),
      edges: store,
      keys: deps.keys(),
      notes: new AlarmNotes(defaultAlarmNotesPath(cfg.DATA_DIR)),
      privacy: vehiclePrivacyIn(cfg.DATA_DIR),
      log: deps.log,
      registry: deps.registry,
      municipalities: () => [...new Set(devices.list().map((d) => d.municipality))].sort(),
      rateLimitPerMinute: cfg.KPI_RATE_LIMIT_PER_MIN,
      authFailuresPerMinute: cfg.KPI_AUTH_FAILURES_PER_MIN,
    });
    await app.listen({ port: cfg.HTTP_PORT, host: cfg.HTTP_HOST });
    return { readiness: storeReadiness(store), stop: () => app.close(), describe: { port: cfg.HTTP_PORT, store: store.kind } };
  },
});
