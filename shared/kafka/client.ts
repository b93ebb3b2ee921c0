/** kafkajs client factory with pino-backed logging, so broker chatter lands in the service's JSON log. */
import { Kafka, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../logging.ts';
import type { KafkaSecurity } from './security.ts';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

function pinoLogCreator(log: Logger): logCreator {
  return () => ({ level, log: entry }) => {
    const { message, ...rest } = entry;
    // kafkajs reports every reconnect attempt at ERROR; they are expected while a broker is away.
    const lvl = LEVELS[level] ?? 'info';
    log[lvl === 'error' ? 'warn' : lvl]({ kafka: rest }, message);
  };
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  log: Logger;
  /** How long one connection attempt may take; short so a missing broker is noticed quickly. */
  connectionTimeoutMs?: number;
  /** TLS and SASL (shared/kafka/security.ts); none for a plaintext listener. */
  security?: KafkaSecurity;
}

export function createKafka({ brokers, clientId, log, connectionTimeoutMs = 3000, security = {} }: KafkaClientOptions): Kafka {
  return new Kafka({
    brokers,
    ...security,
    clientId,
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: 10_000,
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(log.child({ component: 'kafkajs' })),
    retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 2000 },
  });
}
