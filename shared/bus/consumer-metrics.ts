/** The metrics every bus consumer reports, and the retry options built from them (both buses share them). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ConsumeOptions, ConsumerMetrics } from './bus.ts';

export function createConsumerMetrics(registry: Registry, group: string): ConsumerMetrics {
  return {
    lag: new Gauge({ name: 'worker_consumer_lag', help: `Records behind the partition end (${group})`, labelNames: ['topic', 'partition'], registers: [registry] }),
    records: new Counter({ name: 'worker_records_in_total', help: 'Records consumed', labelNames: ['topic'], registers: [registry] }),
    batchFailures: new Counter({ name: 'worker_batch_failures_total', help: 'Failed attempts at a batch (handling or commit), each retried with backoff', registers: [registry] }),
    failing: new Gauge({ name: 'worker_failing_partitions', help: 'Partitions whose batch is failing and being retried', registers: [registry] }),
    replacements: new Counter({ name: 'worker_consumer_replacements_total', help: 'Attempts to replace a consumer the Kafka client stopped for good (a failed attempt is retried and counted again)', registers: [registry] }),
  };
}

/** The retry options every bus gives `retryBatch`: the consumer's log and metrics. */
export const batchRetryOptions = (o: Pick<ConsumeOptions, 'log' | 'metrics'>, at: { topic: string; partition: number }, stillOwned: () => boolean) => ({
  log: o.log.child(at),
  what: `batch of ${at.topic}[${at.partition}]`,
  stillOwned,
  onFailure: () => o.metrics.batchFailures.inc(),
  onFailing: (f: boolean) => o.metrics.failing.inc(f ? 1 : -1),
});
