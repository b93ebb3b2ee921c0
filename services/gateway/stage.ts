/** The gateway in the stage catalogue. */
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { defineStage } from '../../shared/stages/stage.ts';
import { gatewayEnv } from './config.ts';
import { startGateway } from './gateway.ts';
import { createGatewayMetrics } from './metrics.ts';
import { gatewayOutput } from './context.ts';
import { startEdgeReporter } from './edge-reporter.ts';
import { identSchema } from '../../shared/schemas/topics.ts';

/** What its dead letters (what a network server sent that no registered device can own) say in `stage`. */
const DEAD_LETTERS_AS = 'ingest';

export const gatewayStage = defineStage({
  name: 'gateway',
  env: gatewayEnv,
  singleNode: true,
  thread: 'front',
  carriesReadings: true,
  // V8 grows the young generation up to 64 MB a half here. After its first full collection it
  // then sets the old generation's limit only about that much above the gateway's small live heap
  // (~36 MB), finds the room left smaller than a young generation, and starts marking again and
  // again: two full collections a second, and twice the CPU a reading once a gateway has run a
  // while (docs/benchmarks.md). A 16 MB half keeps the room above it; measured, it costs nothing.
  nodeFlags: ['--max-semi-space-size=16'],
  // Raw envelopes out, and the dead letters of what it could not even parse (a town's edge: its own topic instead, docs/edge.md).
  rights: { produces: ['raw', 'deadletter'], devices: 'read' },
  deadLetterStage: DEAD_LETTERS_AS,
  status: { online: 'gateway_connected_devices' },
  async start(cfg, deps) {
    const edge = cfg.EDGE_MUNICIPALITIES !== undefined;
    if (edge && !identSchema.safeParse(cfg.GATEWAY_ID).success) throw new Error(`GATEWAY_ID '${cfg.GATEWAY_ID}' names an edge's topic: it must be lower-case [a-z0-9-]`);
    const bus = deps.bus();
    // An edge's readings reach the pipeline only through the centre's edge intake, which runs on Kafka.
    if (edge && bus.kind !== 'kafka') throw new Error("EDGE_MUNICIPALITIES makes a town's edge, which forwards to the centre's Kafka: not for npm start's embedded log (unset it)");
    const out = gatewayOutput(cfg);
    // Topics are made here when the bus is up and the login may; when not, the gateway still starts and spools.
    const topics = edge ? [{ topic: out.readings, partitions: cfg.BUS_PARTITIONS }] : pipelineTopics(cfg);
    await bus.ensureTopics(topics).catch((err: Error) => deps.log.warn({ err: err.message }, 'could not ensure topics yet'));
    const gateway = await startGateway(cfg, { bus, devices: deps.devices(), log: deps.log, metrics: createGatewayMetrics(deps.registry), deadLetterStage: DEAD_LETTERS_AS });
    const reporter = edge ? startEdgeReporter({ bus, topic: out.readings, edgeId: cfg.GATEWAY_ID, intervalMs: cfg.EDGE_STATUS_INTERVAL_MS, forwarder: gateway.forwarder, spool: gateway.spool, log: deps.log }) : undefined;
    return {
      // Ready while forwarding directly, or while the spool still has room.
      readiness: () => ({ ready: gateway.forwarder.direct || gateway.spool.depthBytes < cfg.SPOOL_MAX_BYTES * 0.9, detail: { bus: gateway.forwarder.direct ? 'direct' : 'spooling', spoolRecords: gateway.spool.depthRecords } }),
      stop: async () => {
        await reporter?.stop();
        await gateway.close();
      },
      describe: { mqttPort: gateway.mqttPort, mqttsPort: gateway.mqttsPort, httpIngestPort: gateway.httpIngestPort, ...(edge ? { edgeOf: cfg.EDGE_MUNICIPALITIES, topic: out.readings } : {}) },
    };
  },
});
