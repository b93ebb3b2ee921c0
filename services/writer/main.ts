/** Writer process: wiring only. */
import { loadConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer, storeReadiness } from '../../shared/http/ops-server.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { KafkaBus } from '../../shared/kafka/kafka-bus.ts';
import { createLogger } from '../../shared/logging.ts';
import { exitOnFatal, onShutdown } from '../../shared/shutdown.ts';
import { writerEnv } from './config.ts';
import { startWriter } from './writer.ts';

const cfg = loadConfig(writerEnv);
const log = createLogger('writer', cfg.LOG_LEVEL);
const bus = new KafkaBus(createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'writer', log }));
const registry = createMetricsRegistry('writer');
const store = new InfluxTelemetryStore(cfg);

await bus.ensureTopics(pipelineTopics(cfg));
const writer = await startWriter(cfg, { bus, log, registry, onFatal: exitOnFatal(log), store });
const ops = await startOpsServer({
  port: cfg.OPS_PORT,
  registry,
  readiness: storeReadiness(store, () => writer.consumer.joined()),
});
log.info({ opsPort: ops.port, from: cfg.TOPIC_NORMALIZED, bucket: cfg.INFLUX_BUCKET }, 'writer running');

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  await writer.stop();
  await ops.app.close();
});
