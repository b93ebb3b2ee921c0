/** pino JSON logs; secrets are redacted by path so they cannot reach a log line by accident. */
import { pino, type Logger } from 'pino';

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
  'headers.authorization',
  'req.headers.authorization',
];

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: name, pid: process.pid } });
}
