/** The gateway's Prometheus metrics (documented in services/gateway/README.md). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createGatewayMetrics(registry: Registry) {
  /** Set by the gateway once its spool is open; read at scrape time. */
  const spoolProbe = { records: () => 0, bytes: () => 0, oldest: (): number | undefined => undefined };
  return {
    spoolProbe,
    connectedDevices: new Gauge({ name: 'gateway_connected_devices', help: 'Authenticated MQTT connections', registers: [registry] }),
    publishes: new Counter({
      name: 'gateway_publishes_total',
      help: 'Publishes (MQTT) and ingest requests (HTTP, webhooks, network servers) by result (accepted|refused), reason and source',
      labelNames: ['result', 'reason', 'kind', 'source'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'gateway_auth_failures_total',
      help: 'Refused logins (MQTT connections, HTTP ingest requests) by reason and source',
      labelNames: ['reason', 'source'] as const,
      registers: [registry],
    }),
    secretChecks: new Counter({ name: 'gateway_secret_checks_total', help: "Secrets checked by hashing, by how: full (the registry's scrypt) or verified_before (this gateway's record of logins it verified, after a restart)", labelNames: ['by'] as const, registers: [registry] }),
    backpressureWaits: new Counter({ name: 'gateway_backpressure_waits_total', help: 'Publishes over their device rate whose PUBACK was held until a token was free', labelNames: ['kind'] as const, registers: [registry] }),
    backpressureSeconds: new Counter({ name: 'gateway_backpressure_wait_seconds_total', help: 'Time publishes waited for their device rate', registers: [registry] }),
    connectionsCut: new Counter({ name: 'gateway_connections_cut_total', help: 'Connections closed before parsing or login, by reason (packet_too_large, malformed_length, first_not_connect; the connection budget: budget_total, budget_address, evicted_for_room, login_timeout)', labelNames: ['reason'] as const, registers: [registry] }),
    logLinesSuppressed: new Counter({ name: 'gateway_log_lines_suppressed_total', help: 'Refusal log lines left out because their source (or all sources together) was over its lines per second, by message', labelNames: ['message'] as const, registers: [registry] }),
    subscribeRefused: new Counter({ name: 'gateway_subscribe_refused_total', help: 'Refused subscriptions', registers: [registry] }),
    busLatency: new Histogram({
      name: 'gateway_bus_produce_seconds',
      help: 'Time from accepting a batch to the bus acknowledging it (Kafka: acks=all)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    busBatchSize: new Histogram({
      name: 'gateway_bus_batch_records',
      help: 'Records per produce request',
      buckets: [1, 5, 10, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    forwarded: new Counter({
      name: 'gateway_records_forwarded_total',
      help: 'Records acknowledged by the bus, by path (direct|replay)',
      labelNames: ['path'] as const,
      registers: [registry],
    }),
    spooled: new Counter({ name: 'gateway_records_spooled_total', help: 'Records written to the spool', registers: [registry] }),
    spoolDepth: new Gauge({
      name: 'gateway_spool_depth_records',
      help: 'Records in the spool waiting for the bus',
      registers: [registry],
      collect() {
        this.set(spoolProbe.records());
      },
    }),
    spoolBytes: new Gauge({
      name: 'gateway_spool_bytes',
      help: 'Bytes in the spool waiting for the bus',
      registers: [registry],
      collect() {
        this.set(spoolProbe.bytes());
      },
    }),
    spoolOldestAge: new Gauge({
      name: 'gateway_spool_oldest_age_seconds',
      help: 'Age of the oldest reading in the spool waiting for the bus (0 when none waits): how far behind the centre this gateway is',
      registers: [registry],
      collect() {
        const oldest = spoolProbe.oldest();
        this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    }),
    busLastContact: new Gauge({ name: 'gateway_bus_last_contact_timestamp_seconds', help: 'When the bus last took a batch from this gateway (Unix time; 0: not since it started)', registers: [registry] }),
    qos0Overflow: new Counter({ name: 'gateway_qos0_overflow_total', help: 'QoS 0 readings dropped because the spool was full', registers: [registry] }),
    busDirect: new Gauge({ name: 'gateway_bus_direct', help: '1 when records go straight to the bus, 0 while spooling', registers: [registry] }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
