/** The alarm stage in the catalogue: reads normalised messages, keeps alarms with the aggregates. */
import { workerStage } from '../../shared/stages/worker-stage.ts';
import { startAlarms } from './alarms.ts';
import { alarmsEnv } from './config.ts';

export const alarmsStage = workerStage({
  name: 'alarms',
  env: alarmsEnv,
  rights: { consumes: ['normalized'], produces: ['deadletter'], store: { read: ['aggregates'], write: ['aggregates'] }, devices: 'read' },
  deadLetterStage: 'alarm',
  carriesReadings: false,
  start: (cfg, worker, deps) => startAlarms(cfg, { ...worker, store: deps.store(), devices: deps.devices() }),
});
