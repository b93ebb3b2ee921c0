/** Starting a gateway for a test: in-process (most tests) or as a child process (kill tests). */
import type { ChildProcess } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../shared/config.ts';
import { openBus } from '../../shared/engines.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { createLogger } from '../../shared/logging.ts';
import { createMetricsRegistry } from '../../shared/http/ops-server.ts';
import { gatewayEnv } from '../../services/gateway/config.ts';
import { startGateway, type Gateway } from '../../services/gateway/gateway.ts';
import { createGatewayMetrics } from '../../services/gateway/metrics.ts';
import { gatewayStage } from '../../services/gateway/stage.ts';
import { secureClientEnv } from '../../engines/kafka.ts';
import { grantTestAcls, testKafka, unique } from './services.ts';
import { spawnService } from './spawn.ts';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  topic: string;
  dataDir: string;
  registryPath: string;
  metrics: ReturnType<typeof createMetricsRegistry>;
  /** The sum of a metric's values whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * A gateway on a free port, with its own data dir, registry and raw topic, logged in to Kafka's
 * SASL_SSL listener as the `gateway` principal with only the gateway's ACLs, as in production.
 */
export async function startTestGateway(env: Record<string, string> = {}, topicConfigs: Record<string, string> = {}, kafka: Kafka = testKafka()): Promise<TestGateway> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'gw-test-'));
  const topic = env.TOPIC_RAW ?? unique('raw');
  await ensureTopics(kafka, [{ topic, partitions: 3, replicationFactor: 0, configs: topicConfigs }]);
  const settings: Record<string, string> = {
    ...secureClientEnv('gateway'),
    DATA_DIR: dataDir,
    TOPIC_RAW: topic,
    MQTT_PORT: '0',
    HTTP_INGEST_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    GATEWAY_ID: unique('gw'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  };
  const cfg = parseConfig(gatewayEnv, settings);
  if ((settings.KAFKA_SECURITY_PROTOCOL ?? 'PLAINTEXT') !== 'PLAINTEXT') await grantTestAcls(cfg);
  const log = createLogger('gateway-test', cfg.LOG_LEVEL);
  const registry = createMetricsRegistry('gateway');
  const bus = openBus(settings, { service: 'gateway-test', log }).engine;
  const gateway = await startGateway(cfg, {
    bus,
    log,
    metrics: createGatewayMetrics(registry),
    deadLetterStage: gatewayStage.deadLetterStage!,
  });
  await waitUntil(() => gateway.forwarder.direct, 20_000, 'gateway forwarding to Kafka');
  return {
    gateway,
    url: `mqtt://127.0.0.1:${gateway.mqttPort}`,
    topic,
    dataDir,
    registryPath: gateway.registry.path,
    metrics: registry,
    metric: async (name, labels = {}) => {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
      return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((sum, v) => sum + v.value, 0);
    },
    close: async () => {
      await gateway.close();
      await bus.close();
    },
  };
}

/** The gateway as its own process (`npm run service -- gateway`), for SIGKILL tests. */
export async function spawnGateway(env: Record<string, string>, opts: { ready?: string; fileLimit?: number } = {}): Promise<{ child: ChildProcess; port: number; httpIngestPort: number; log: () => string }> {
  const ready = opts.ready ?? 'forwarding directly';
  await grantTestAcls(env);
  const { child, log } = await spawnService('gateway', { ...secureClientEnv('gateway'), MQTT_HOST: '127.0.0.1', ...env }, (l) => /"mqttPort":\d+/.test(l) && l.includes(ready), { fileLimit: opts.fileLimit });
  return { child, port: Number(/"mqttPort":(\d+)/.exec(log())![1]), httpIngestPort: Number(/"httpIngestPort":(\d+)/.exec(log())![1]), log };
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Connects as the device; resolves with the CONNACK's verdict (0: let in; the client closed again), -1 when no answer came. */
export async function tryLogin(port: number, device: string, secret: string): Promise<number> {
  const { default: mqtt } = await import('mqtt');
  try {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: device, username: device, password: secret, reconnectPeriod: 0, connectTimeout: 5000 });
    await c.endAsync();
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}
