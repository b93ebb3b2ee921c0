/** kafkajs client factory with pino-backed logging, so broker chatter lands in the service's JSON log. */
import './kafkajs-speedups.ts'; // first: it replaces modules kafkajs loads as it loads
import net from 'node:net';
import tls from 'node:tls';
import { Kafka, logLevel as KafkaLogLevel, type ISocketFactory, type logCreator } from 'kafkajs';
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
  /** `host:port` the cluster advertises → `host:port` to connect to instead (`KAFKA_ADDRESS_MAP`). */
  addressMap?: Record<string, string>;
}

/**
 * Connects to the address a broker's advertised one maps to — a port forward or NAT in front of the
 * cluster, as a town edge may reach the centre — while TLS still checks the certificate against the
 * advertised host, so the detour cannot be used to pose as a broker.
 */
export function mappedSockets(map: Record<string, string>): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const to = map[`${host}:${port}`];
    const [toHost, toPort] = to ? [to.slice(0, to.lastIndexOf(':')), Number(to.slice(to.lastIndexOf(':') + 1))] : [host, port];
    const socket = ssl
      ? tls.connect({ host: toHost, port: toPort, ...(net.isIP(host) ? {} : { servername: host }), ...ssl, checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert) }, onConnect)
      : net.connect({ host: toHost, port: toPort }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

export function createKafka({ brokers, clientId, log, connectionTimeoutMs = 3000, security = {}, addressMap = {} }: KafkaClientOptions): Kafka {
  return new Kafka({
    brokers,
    ...security,
    ...(Object.keys(addressMap).length > 0 ? { socketFactory: mappedSockets(addressMap) } : {}),
    clientId,
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: 10_000,
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(log.child({ component: 'kafkajs' })),
    retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 2000 },
  });
}
