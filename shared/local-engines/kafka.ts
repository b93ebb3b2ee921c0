/**
 * A real Apache Kafka broker, single node in KRaft mode on loopback. The jars come from Maven
 * Central through `deploy/kafka/pom.xml` (Maven's own dependency copying) and run on Java 17.
 *
 * Two client listeners: PLAINTEXT (loopback, no login: the operator's, for `up`, the tools and
 * the tests' own reads) and SASL_SSL, secured as production is: TLS with a certificate from a
 * local CA, SCRAM-SHA-512 or PLAIN logins, and ACLs (StandardAuthorizer) that give each service's
 * principal only its rights (shared/kafka/acls.ts). A login that fails, or a principal without an
 * ACL, is refused there.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { issueCertificate, openLocalCa } from '../registry/certificates.ts';
import { BUS_SERVICES, type BusService } from '../kafka/acls.ts';
import { KAFKA_VERSION, cacheHome, kafkaControllerPort, kafkaPort, kafkaSecurePort, runHome } from './paths.ts';
import { portOpen, readPid, startDaemon, stopDaemon, waitFor } from './process.ts';
import { requireTool, run } from './tools.ts';

const installDir = join(cacheHome, `kafka-${KAFKA_VERSION}`);
const libs = join(installDir, 'libs');
const classpath = `${libs}/*`;
const home = join(runHome, 'kafka');
const dataDir = join(home, 'data');
const pidFile = join(home, 'kafka.pid');
export const kafkaLogFile = join(home, 'kafka.log');
const pomDir = resolve(import.meta.dirname, '..', '..', 'deploy', 'kafka');

export const kafkaInstalled = () => existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`));

export function installKafka(): void {
  if (kafkaInstalled()) return;
  requireTool('java', 'install a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless');
  requireTool('mvn', 'install Maven, e.g. apt-get install maven');
  const tmp = `${libs}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  run(
    'mvn',
    ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime', `-Dkafka.version=${KAFKA_VERSION}`],
    { cwd: pomDir, what: 'fetching the Kafka broker jars with Maven' },
  );
  mkdirSync(installDir, { recursive: true });
  renameSync(tmp, libs);
}

const tlsDir = join(home, 'tls');
const credentialsFile = join(home, 'credentials.json');
const keystore = join(tlsDir, 'broker.pem');
/** The CA that signed the SASL_SSL listener's certificate: what clients trust (KAFKA_SSL_CA). */
export const kafkaCaPath = join(tlsDir, 'ca.crt');

/** The SASL principals: the services, and `admin` (a super user, for operators' tools over TLS). */
export type KafkaUser = BusService | 'admin';
export const KAFKA_USERS: KafkaUser[] = ['admin', ...BUS_SERVICES];

/** Passwords of the local principals, made once per data directory (mode 0600). */
export function kafkaCredentials(): Record<KafkaUser, string> {
  if (!existsSync(credentialsFile)) {
    mkdirSync(home, { recursive: true });
    writeFileSync(credentialsFile, JSON.stringify(Object.fromEntries(KAFKA_USERS.map((u) => [u, randomBytes(18).toString('base64url')]))), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(credentialsFile, 'utf8')) as Record<KafkaUser, string>;
}

/** The key and certificate chain of the SASL_SSL listener (Kafka reads a PEM keystore). */
async function brokerKeystore(): Promise<void> {
  if (existsSync(keystore)) return;
  const ca = await openLocalCa(tlsDir);
  const issued = await issueCertificate(ca, { serverNames: ['127.0.0.1', 'localhost'], days: 825 });
  writeFileSync(keystore, `${issued.keyPem}\n${issued.certPem}\n${ca.cert.toString('pem')}\n`, { mode: 0o600 });
}

/** The settings of a client logging in as `user` on the SASL_SSL listener (shared/kafka/security.ts). */
export function secureClientEnv(user: KafkaUser, mechanism: 'SCRAM-SHA-512' | 'PLAIN' = 'SCRAM-SHA-512'): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaSecureBrokers(),
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD: kafkaCredentials()[user],
    KAFKA_SSL_CA: kafkaCaPath,
  };
}

function serverProperties(): string {
  const passwords = kafkaCredentials();
  const plainUsers = KAFKA_USERS.map((u) => `user_${u}="${passwords[u]}"`).join(' ');
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${kafkaControllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${kafkaControllerPort},SASL_SSL://127.0.0.1:${kafkaSecurePort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafkaPort},SASL_SSL://127.0.0.1:${kafkaSecurePort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${keystore}`,
    'ssl.client.auth=requested',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // ANONYMOUS is the loopback PLAINTEXT listener's (and the controller's) principal.
    'super.users=User:admin;User:ANONYMOUS',
    'allow.everyone.if.no.acl.found=false',
    `log.dirs=${dataDir}`,
    // The project creates its topics itself (docs/architecture.md): a typo must not create a topic.
    'auto.create.topics.enable=false',
    'num.partitions=6',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=168',
    '',
  ].join('\n');
}

const log4j = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/><Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="kafka.request.logger" level="WARN"/><Logger name="state.change.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
`;

export const kafkaPid = () => readPid(pidFile);

export async function startKafka({ clean = false } = {}): Promise<void> {
  if (kafkaPid() !== undefined) return;
  if (await portOpen(kafkaPort)) throw new Error(`port ${kafkaPort} is taken by another process; set LOCAL_KAFKA_PORT`);
  installKafka();
  // SCRAM credentials are written when the log directory is formatted: a directory from before
  // them (or without its credentials file) starts again empty.
  if (clean || !existsSync(credentialsFile)) {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(credentialsFile, { force: true });
  }
  mkdirSync(home, { recursive: true });
  await brokerKeystore();
  const props = join(home, 'server.properties');
  writeFileSync(props, serverProperties());
  writeFileSync(join(home, 'log4j2.xml'), log4j);
  const javaOpts = ['-Xms256m', '-Xmx768m', `-Dlog4j2.configurationFile=${join(home, 'log4j2.xml')}`, '-cp', classpath];
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const clusterId = run('java', [...javaOpts, 'kafka.tools.StorageTool', 'random-uuid'], { what: 'kafka random-uuid' }).trim().split('\n').pop()!;
    const passwords = kafkaCredentials();
    const scram = KAFKA_USERS.flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u},password=${passwords[u]}]`]);
    run('java', [...javaOpts, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, ...scram], { what: 'formatting the Kafka log directory' });
  }
  startDaemon({ command: 'java', args: [...javaOpts, 'kafka.Kafka', props], cwd: home, logFile: kafkaLogFile, pidFile });
}

/** Ready means the broker answers the Kafka protocol, not just that its port is open. */
export async function waitKafkaReady(timeoutMs = 90_000): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ brokers: [`127.0.0.1:${kafkaPort}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  await waitFor(
    'Kafka',
    async () => {
      if (!(await portOpen(kafkaPort))) return false;
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0 && cluster.controller !== null;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    timeoutMs,
    kafkaLogFile,
  );
}

export const stopKafka = () => stopDaemon(pidFile, 30_000);

export const kafkaBrokers = () => `127.0.0.1:${kafkaPort}`;
export const kafkaSecureBrokers = () => `127.0.0.1:${kafkaSecurePort}`;
