/** Aggregator process: wiring only. */
import { aggregateBucket, loadConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer } from '../../shared/http/ops-server.ts';
import { InfluxStore } from '../../shared/influx/client.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { ensureTopics, pipelineTopics } from '../../shared/kafka/topics.ts';
import { createLogger } from '../../shared/logging.ts';
import { exitOnFatal, onShutdown } from '../../shared/shutdown.ts';
import { startAggregator } from './aggregator.ts';
import { aggregatorEnv } from './config.ts';

const cfg = loadConfig(aggregatorEnv);
const log = createLogger('aggregator', cfg.LOG_LEVEL);
const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'aggregator', log });
const registry = createMetricsRegistry('aggregator');
const store = new InfluxStore(aggregateBucket(cfg));

await ensureTopics(kafka, pipelineTopics(cfg));
const aggregator = await startAggregator(cfg, { kafka, log, registry, onFatal: exitOnFatal(log), store });
const ops = await startOpsServer({
  port: cfg.OPS_PORT,
  registry,
  readiness: async () => {
    const influx = await store.healthy();
    return { ready: aggregator.consumer.joined() && influx, detail: { influx: influx ? 'up' : 'down' } };
  },
});
log.info({ opsPort: ops.port, from: cfg.TOPIC_NORMALIZED, bucket: store.bucket }, 'aggregator running');

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  await aggregator.stop();
  await ops.app.close();
});
