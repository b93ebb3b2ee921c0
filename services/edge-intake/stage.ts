/** The edge intake in the stage catalogue: on Kafka only (towns' edges reach the centre's cluster), never part of `npm start`. */
import { workerStage } from '../../shared/stages/worker-stage.ts';
import { edgeIntakeEnv } from './config.ts';
import { intakeTopics, startEdgeIntake } from './intake.ts';

export const edgeIntakeStage = workerStage({
  name: 'edge-intake',
  env: edgeIntakeEnv,
  singleNode: false,
  rights: { consumes: ['edges'], produces: ['raw', 'deadletter'], devices: 'read' },
  deadLetterStage: 'edge-intake',
  carriesReadings: false,
  async start(cfg, worker, deps) {
    // The edges' topics are made when an edge is provisioned; made here too when this login may.
    await worker.bus.ensureTopics(intakeTopics(cfg).map((topic) => ({ topic, partitions: cfg.BUS_PARTITIONS }))).catch((err: Error) => worker.log.warn({ err: err.message }, 'could not ensure the edge topics (provision each edge first)'));
    return startEdgeIntake(cfg, { ...worker, devices: deps.devices() });
  },
});
