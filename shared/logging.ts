/** pino JSON logs; secrets are redacted by path so they cannot reach a log line by accident. */
import { pino, type DestinationStream, type Logger } from 'pino';
import { RotatingLogFile, type LogFileOptions } from './log-file.ts';

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
  'config.KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD',
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

/** An appending log file, rotated by size with a bound on the total (log-file.ts). */
export function logFile(path: string, o: LogFileOptions = { maxBytes: 16 * 1024 * 1024, keep: 4 }): DestinationStream {
  return new RotatingLogFile(path, o);
}

/** The log file's rotation settings (npm start's LOG_FILE_MAX_BYTES, LOG_FILE_KEEP). */
export const logFileLimits = (cfg: { LOG_FILE_MAX_BYTES: number; LOG_FILE_KEEP: number }): LogFileOptions => ({ maxBytes: cfg.LOG_FILE_MAX_BYTES, keep: cfg.LOG_FILE_KEEP });
