/**
 * How a service reaches a secured Kafka, as managed Kafka services require: TLS (a CA bundle,
 * optionally a client certificate for mutual TLS) and SASL (SCRAM-SHA-512/256, or PLAIN, which
 * sends the password itself and is therefore refused without TLS). Settings are part of the bus
 * settings (shared/config.ts); this turns them into kafkajs's `ssl` and `sasl` options.
 */
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { ConfigError, readSettingFile } from '../config-error.ts';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export const SASL_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const;

export const kafkaSecurityEnv = {
  KAFKA_SECURITY_PROTOCOL: z.enum(SECURITY_PROTOCOLS).default('PLAINTEXT').describe("how the bus connects to Kafka (Kafka's security.protocol): TLS with SSL/SASL_SSL, a login with SASL_*"),
  KAFKA_SASL_MECHANISM: z.enum(SASL_MECHANISMS).default('SCRAM-SHA-512').describe('SASL mechanism; PLAIN only with SASL_SSL'),
  KAFKA_SASL_USERNAME: z.string().default('').describe("the service's Kafka principal (SASL)"),
  KAFKA_SASL_PASSWORD: z.string().default('').describe('its password (or KAFKA_SASL_PASSWORD_FILE); never logged'),
  KAFKA_SSL_CA: z.string().default('').describe("PEM file of the CAs that sign the brokers' certificates (empty: the system's)"),
  KAFKA_SSL_CERT: z.string().default('').describe('PEM client certificate, for brokers that require mutual TLS (with KAFKA_SSL_KEY)'),
  KAFKA_SSL_KEY: z.string().default('').describe("PEM private key of KAFKA_SSL_CERT"),
};

export type KafkaSecuritySettings = { [K in keyof typeof kafkaSecurityEnv]: z.infer<(typeof kafkaSecurityEnv)[K]> };

export interface KafkaSecurity {
  ssl?: ConnectionOptions | true;
  sasl?: SASLOptions;
}

/** kafkajs's `ssl` and `sasl` for the settings; a ConfigError (one line) for a combination that cannot work. */
export function kafkaSecurity(s: Partial<KafkaSecuritySettings>): KafkaSecurity {
  const protocol = s.KAFKA_SECURITY_PROTOCOL ?? 'PLAINTEXT';
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol.startsWith('SASL_');
  const out: KafkaSecurity = {};
  if (!tls && (s.KAFKA_SSL_CA || s.KAFKA_SSL_CERT)) throw new ConfigError(`invalid configuration: KAFKA_SSL_* are set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS`);
  if (tls) {
    if (Boolean(s.KAFKA_SSL_CERT) !== Boolean(s.KAFKA_SSL_KEY)) throw new ConfigError('invalid configuration: KAFKA_SSL_CERT and KAFKA_SSL_KEY go together (a client certificate and its key)');
    const opts: ConnectionOptions = {};
    if (s.KAFKA_SSL_CA) opts.ca = readSettingFile('KAFKA_SSL_CA', s.KAFKA_SSL_CA);
    if (s.KAFKA_SSL_CERT) opts.cert = readSettingFile('KAFKA_SSL_CERT', s.KAFKA_SSL_CERT);
    if (s.KAFKA_SSL_KEY) opts.key = readSettingFile('KAFKA_SSL_KEY', s.KAFKA_SSL_KEY);
    out.ssl = Object.keys(opts).length > 0 ? opts : true;
  }
  if (sasl) {
    const mechanism = s.KAFKA_SASL_MECHANISM ?? 'SCRAM-SHA-512';
    if (!s.KAFKA_SASL_USERNAME || !s.KAFKA_SASL_PASSWORD) throw new ConfigError(`invalid configuration: KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    if (mechanism === 'PLAIN' && !tls) throw new ConfigError('invalid configuration: KAFKA_SASL_MECHANISM=PLAIN sends the password as it is: use it with KAFKA_SECURITY_PROTOCOL=SASL_SSL only');
    const credentials = { username: s.KAFKA_SASL_USERNAME, password: s.KAFKA_SASL_PASSWORD };
    out.sasl =
      mechanism === 'PLAIN' ? { mechanism: 'plain', ...credentials } : mechanism === 'SCRAM-SHA-256' ? { mechanism: 'scram-sha-256', ...credentials } : { mechanism: 'scram-sha-512', ...credentials };
  }
  return out;
}
