/** Aggregator process: wiring only. */
import { loadConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer, storeReadiness } from '../../shared/http/ops-server.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { KafkaBus } from '../../shared/kafka/kafka-bus.ts';
import { createLogger } from '../../shared/logging.ts';
import { exitOnFatal, onShutdown } from '../../shared/shutdown.ts';
import { startAggregator } from './aggregator.ts';
import { aggregatorEnv } from './config.ts';

const cfg = loadConfig(aggregatorEnv);
const log = createLogger('aggregator', cfg.LOG_LEVEL);
const bus = new KafkaBus(createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'aggregator', log }));
const registry = createMetricsRegistry('aggregator');
const store = new InfluxTelemetryStore(cfg);

await bus.ensureTopics(pipelineTopics(cfg));
const aggregator = await startAggregator(cfg, { bus, log, registry, onFatal: exitOnFatal(log), store });
const ops = await startOpsServer({
  port: cfg.OPS_PORT,
  registry,
  readiness: storeReadiness(store, () => aggregator.consumer.joined()),
});
log.info({ opsPort: ops.port, from: cfg.TOPIC_NORMALIZED, bucket: store.aggregates.bucket }, 'aggregator running');

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  await aggregator.stop();
  await ops.app.close();
});
