/** pino JSON logs; secrets are redacted by path so they cannot reach a log line by accident. */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  'secret',
  'token',
  '*.password',
  '*.secret',
  '*.token',
  '*.secretHash',
  'config.INFLUX_TOKEN',
  'INFLUX_TOKEN',
  'config.TTS_WEBHOOK_SECRET',
  'config.CHIRPSTACK_MQTT_PASSWORD',
  'CHIRPSTACK_MQTT_PASSWORD',
  'TTS_WEBHOOK_SECRET',
  'headers["x-webhook-secret"]',
  'req.headers["x-webhook-secret"]',
  'headers.authorization',
  'req.headers.authorization',
];

/** A service's logger; stdout unless `destination` is given (one process running every stage logs to a file). */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const opts = { name, level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: name, pid: process.pid } };
  return destination ? pino(opts, destination) : pino(opts);
}

/**
 * An appending log file, created with its directory. A write that fails (the disk is full) drops
 * that line and says so once on stderr — logging must never be what stops the product.
 */
export function logFile(path: string): DestinationStream {
  const dest = pino.destination({ dest: path, mkdir: true, sync: true });
  let failing = false;
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (failing) return;
    failing = true;
    process.stderr.write(`log file ${path}: ${err.code ?? err.message}; log lines are dropped until it can be written again\n`);
    setTimeout(() => (failing = false), 60_000).unref();
  });
  return dest;
}
