/**
 * The bus and the store of a one-process run: embedded (SQLite files in the data directory) by
 * default, Kafka and/or InfluxDB when their settings are present.
 */
import { join } from 'node:path';
import type { Bus } from '../../shared/bus/bus.ts';
import { influxEnv, busEnv, parseConfig } from '../../shared/config.ts';
import { SqliteBus } from '../../shared/embedded/sqlite-bus.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { kafkaSecurity } from '../../shared/kafka/security.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { KafkaBus } from '../../shared/kafka/kafka-bus.ts';
import type { Logger } from '../../shared/logging.ts';
import type { TelemetryStore } from '../../shared/store/store.ts';
import type { MessagePort } from 'node:worker_threads';

export interface Engines {
  bus: Bus;
  store: TelemetryStore;
  /** Where each part lives, for the start-up banner. */
  describe: { bus: string; store: string };
  close(): Promise<void>;
}

/** `opts.logWriter`: in a second thread, the embedded log's writer of the first (`SqliteBus.connectWriter()`). */
export function openEngines(env: NodeJS.ProcessEnv, dataDir: string, log: Logger, opts: { logWriter?: MessagePort | undefined } = {}): Engines {
  let bus: Bus;
  let busLabel: string;
  if (env.KAFKA_BROKERS) {
    const k = parseConfig(busEnv, env);
    bus = new KafkaBus(createKafka({ brokers: k.KAFKA_BROKERS, security: kafkaSecurity(k), clientId: 'smartcity-node', log }));
    busLabel = `Kafka ${k.KAFKA_BROKERS.join(',')}`;
  } else {
    const sqlite = new SqliteBus(join(dataDir, 'bus.db'), opts.logWriter ? { writer: opts.logWriter } : {});
    bus = sqlite;
    busLabel = `embedded log ${sqlite.path}`;
  }
  let store: TelemetryStore;
  let storeLabel: string;
  if (env.INFLUX_URL) {
    const i = parseConfig(influxEnv, env);
    store = new InfluxTelemetryStore(i);
    storeLabel = `InfluxDB ${i.INFLUX_URL} bucket ${i.INFLUX_BUCKET}${i.INFLUX_AGG_BUCKET ? ` (aggregates ${i.INFLUX_AGG_BUCKET})` : ''}`;
  } else {
    const sqlite = new SqliteStore(join(dataDir, 'store.db'));
    store = sqlite;
    storeLabel = `embedded store ${sqlite.path}`;
  }
  return {
    bus,
    store,
    describe: { bus: busLabel, store: storeLabel },
    async close() {
      await bus.close();
      await store.close();
    },
  };
}
