/** SIGTERM/SIGINT: run the service's drain once, exit 0; exit 1 if it overruns its time. */
import type { Logger } from './logging.ts';

export function onShutdown(log: Logger, timeoutMs: number, drain: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'drain overran its time; exiting');
      process.exit(1);
    }, timeoutMs);
    drain().then(
      () => {
        clearTimeout(timer);
        log.info('drained; bye');
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err: err.message }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** A worker whose consumer kafkajs gave up on exits non-zero, so its supervisor restarts it. */
export const exitOnFatal = (log: Logger) => (err: Error) => {
  log.fatal({ err: err.message }, 'consumer stopped for good; exiting so the supervisor restarts this worker');
  process.exit(1);
};
