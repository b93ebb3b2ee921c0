/** Normaliser process: wiring only. */
import { loadConfig } from '../../shared/config.ts';
import { createMetricsRegistry, startOpsServer } from '../../shared/http/ops-server.ts';
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { KafkaBus } from '../../shared/kafka/kafka-bus.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry, defaultRegistryPath } from '../../shared/registry/device-registry.ts';
import { exitOnFatal, onShutdown } from '../../shared/shutdown.ts';
import { normalizerEnv } from './config.ts';
import { startNormalizer } from './normalizer.ts';

const cfg = loadConfig(normalizerEnv);
const log = createLogger('normalizer', cfg.LOG_LEVEL);
const bus = new KafkaBus(createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'normalizer', log }));
const registry = createMetricsRegistry('normalizer');
const devices = new DeviceRegistry(cfg.DEVICE_REGISTRY ?? defaultRegistryPath(cfg.DATA_DIR));
const unwatch = devices.watch(() => log.info('device registry reloaded'));

await bus.ensureTopics(pipelineTopics(cfg));
const normalizer = await startNormalizer(cfg, { bus, log, registry, onFatal: exitOnFatal(log), devices });
const ops = await startOpsServer({
  port: cfg.OPS_PORT,
  registry,
  readiness: () => ({ ready: normalizer.consumer.joined(), detail: { group: cfg.BUS_GROUP_ID } }),
});
log.info({ opsPort: ops.port, from: cfg.TOPIC_RAW, to: cfg.TOPIC_NORMALIZED }, 'normalizer running');

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  unwatch();
  await normalizer.stop();
  await ops.app.close();
});
