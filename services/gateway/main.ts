/** Gateway process: wires configuration to the broker, Kafka, the ops endpoints and SIGTERM. */
import { loadConfig } from '../../shared/config.ts';
import { pipelineTopics } from '../../shared/bus/topics.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { KafkaBus } from '../../shared/kafka/kafka-bus.ts';
import { createLogger } from '../../shared/logging.ts';
import { createMetricsRegistry, startOpsServer } from '../../shared/http/ops-server.ts';
import { onShutdown } from '../../shared/shutdown.ts';
import { gatewayEnv } from './config.ts';
import { startGateway } from './gateway.ts';
import { createGatewayMetrics } from './metrics.ts';

const cfg = loadConfig(gatewayEnv);
const log = createLogger('gateway', cfg.LOG_LEVEL);
const bus = new KafkaBus(createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: `gateway-${cfg.GATEWAY_ID}`, log }));
const registry = createMetricsRegistry('gateway');
const metrics = createGatewayMetrics(registry);

// Topics are made here when Kafka is up; when it is not, the gateway still starts and spools.
await bus.ensureTopics(pipelineTopics(cfg)).catch((err: Error) => log.warn({ err: err.message }, 'could not ensure topics yet'));
const gateway = await startGateway(cfg, { bus, log, metrics });
const ops = await startOpsServer({
  port: cfg.OPS_PORT,
  registry,
  readiness: () => {
    const spoolOk = gateway.spool.depthBytes < cfg.SPOOL_MAX_BYTES * 0.9;
    return { ready: gateway.forwarder.direct || spoolOk, detail: { kafka: gateway.forwarder.direct ? 'direct' : 'spooling', spoolRecords: gateway.spool.depthRecords } };
  },
});
log.info({ opsPort: ops.port }, 'ops endpoints on /healthz /readyz /metrics');

onShutdown(log, cfg.SHUTDOWN_TIMEOUT_MS, async () => {
  await gateway.close();
  await ops.app.close();
});
