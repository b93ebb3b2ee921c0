/** The gateway in the stage catalogue. */
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { defineStage } from '../../shared/stages/stage.ts';
import { gatewayEnv } from './config.ts';
import { startGateway } from './gateway.ts';
import { createGatewayMetrics } from './metrics.ts';

/** What its dead letters (what a network server sent that no registered device can own) say in `stage`. */
const DEAD_LETTERS_AS = 'ingest';

export const gatewayStage = defineStage({
  name: 'gateway',
  env: gatewayEnv,
  singleNode: true,
  thread: 'front',
  carriesReadings: true,
  // Raw envelopes out, and the dead letters of what it could not even parse.
  rights: { produces: ['raw', 'deadletter'], devices: 'read' },
  deadLetterStage: DEAD_LETTERS_AS,
  status: { online: 'gateway_connected_devices' },
  async start(cfg, deps) {
    const bus = deps.bus();
    // Topics are made here when the bus is up; when it is not, the gateway still starts and spools.
    await bus.ensureTopics(pipelineTopics(cfg)).catch((err: Error) => deps.log.warn({ err: err.message }, 'could not ensure topics yet'));
    const gateway = await startGateway(cfg, { bus, devices: deps.devices(), log: deps.log, metrics: createGatewayMetrics(deps.registry), deadLetterStage: DEAD_LETTERS_AS });
    return {
      // Ready while forwarding directly, or while the spool still has room.
      readiness: () => ({ ready: gateway.forwarder.direct || gateway.spool.depthBytes < cfg.SPOOL_MAX_BYTES * 0.9, detail: { bus: gateway.forwarder.direct ? 'direct' : 'spooling', spoolRecords: gateway.spool.depthRecords } }),
      stop: () => gateway.close(),
      describe: { mqttPort: gateway.mqttPort, mqttsPort: gateway.mqttsPort, httpIngestPort: gateway.httpIngestPort },
    };
  },
});
