/**
 * pino JSON logs. Secrets are redacted by one rule (`secret-names.ts`: a field named like a
 * secret, at any depth), so a new secret setting cannot be missed by a hand-kept list.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { RotatingLogFile, type LogFileOptions } from './log-file.ts';
import { redactSecrets } from './secret-names.ts';

export type { Logger };


/** A service's logger; stdout unless `destination` is given (one process running every stage logs to a file). */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const opts = { name, level, formatters: { log: (o: Record<string, unknown>) => redactSecrets(o), bindings: (b: Record<string, unknown>) => redactSecrets(b) }, base: { service: name, pid: process.pid } };
  return destination ? pino(opts, destination) : pino(opts);
}

/** An appending log file, rotated by size with a bound on the total (log-file.ts). */
export function logFile(path: string, o: LogFileOptions = { maxBytes: 16 * 1024 * 1024, keep: 4 }): DestinationStream {
  return new RotatingLogFile(path, o);
}

/** The log file's rotation settings (npm start's LOG_FILE_MAX_BYTES, LOG_FILE_KEEP). */
export const logFileLimits = (cfg: { LOG_FILE_MAX_BYTES: number; LOG_FILE_KEEP: number }): LogFileOptions => ({ maxBytes: cfg.LOG_FILE_MAX_BYTES, keep: cfg.LOG_FILE_KEEP });
