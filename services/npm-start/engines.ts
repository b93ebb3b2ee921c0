/**
 * The bus and the store of a one-process run: embedded (SQLite files in the data directory) by
 * default, Kafka and/or InfluxDB when their settings are present.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Bus } from '../../shared/bus/bus.ts';
import { openBus, openStore } from '../../shared/engines.ts';
import type { Logger } from '../../shared/logging.ts';
import type { TelemetryStore } from '../../shared/store/store.ts';

export interface Engines {
  bus: Bus;
  store: TelemetryStore;
  /** Where each part lives, for the start-up banner. */
  describe: { bus: string; store: string };
  close(): Promise<void>;
}

/** `opts.logWriter`: in a second thread, the embedded log's writer of the first (`SqliteBus.connectWriter()`). */
export function openEngines(env: NodeJS.ProcessEnv, dataDir: string, log: Logger, opts: { logWriter?: MessagePort | undefined } = {}): Engines {
  const bus = openBus(env, { service: 'node', log, embedded: { dataDir, logWriter: opts.logWriter } });
  const store = openStore(env, { embedded: { dataDir } });
  return {
    bus: bus.engine,
    store: store.engine,
    describe: { bus: bus.describe, store: store.describe },
    async close() {
      await bus.engine.close();
      await store.engine.close();
    },
  };
}
