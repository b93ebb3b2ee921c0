/**
 * Real Apache Kafka in KRaft mode on loopback: one node, or a cluster of several (each node a
 * broker and a controller of a static quorum, as a small production cluster). The jars come from
 * Maven Central through `deploy/kafka/pom.xml` (Maven's own dependency copying), on Java 17.
 *
 * Each node has two client listeners: PLAINTEXT (loopback, no login: the operator's, for `up`,
 * the tools and the tests' own reads) and SASL_SSL, secured as production is: TLS with a
 * certificate from a local CA, SCRAM-SHA-512 or PLAIN logins, and ACLs (StandardAuthorizer) that
 * give each service's principal only its rights (shared/kafka/acls.ts). A failed login, or a
 * principal without an ACL, is refused there. Node i (from 0) listens on basePort + 100·i
 * (PLAINTEXT), + 1 (controller), + 2 (SASL_SSL).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUS_PARTIES } from '../services/rights.ts';
import { BUS_RETENTION_HOURS } from '#shared/privacy/retention.ts';
import { issueCertificate, openLocalCa } from '#shared/registry/certificates.ts';
import { KAFKA_VERSION, cacheHome } from './paths.ts';
import { isAlive, portOpen, readPid, startDaemon, stopDaemon, waitFor } from './process.ts';
import { requireTool, run } from './tools.ts';

const installDir = join(cacheHome, `kafka-${KAFKA_VERSION}`);
const libs = join(installDir, 'libs');
const classpath = `${libs}/*`;
export const kafkaPomDir = resolve(import.meta.dirname, '..', 'deploy', 'kafka');

export const kafkaInstalled = () => existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`));

export function installKafka(): void {
  if (kafkaInstalled()) return;
  requireTool('java', 'install a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless');
  requireTool('mvn', 'install Maven, e.g. apt-get install maven');
  const tmp = `${libs}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  run('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime', `-Dkafka.version=${KAFKA_VERSION}`], { cwd: kafkaPomDir, what: 'fetching the Kafka broker jars with Maven' });
  mkdirSync(installDir, { recursive: true });
  renameSync(tmp, libs);
}

/** The SASL principals: the stages on the bus, and `admin` (a super user, for operators' tools over TLS). */
export type KafkaUser = string;
export const KAFKA_USERS: KafkaUser[] = ['admin', ...BUS_PARTIES.map((p) => p.name)];

/** Where a cluster keeps its state, how many nodes it has, and its first port. */
export interface ClusterLayout {
  home: string;
  nodes: number;
  basePort: number;
}

export const nodePorts = (l: ClusterLayout, i: number) => ({ plaintext: l.basePort + 100 * i, controller: l.basePort + 100 * i + 1, secure: l.basePort + 100 * i + 2 });

export function clusterNode(l: ClusterLayout, i: number) {
  // Node 0 keeps the single-node layout of earlier versions (its data survives an upgrade).
  const dir = i === 0 ? l.home : join(l.home, `node-${i + 1}`);
  return { id: i + 1, dir, dataDir: join(dir, 'data'), pidFile: join(dir, 'kafka.pid'), logFile: join(dir, 'kafka.log'), props: join(dir, 'server.properties') };
}

export const clusterFiles = (l: ClusterLayout) => ({ credentials: join(l.home, 'credentials.json'), tls: join(l.home, 'tls'), keystore: join(l.home, 'tls', 'broker.pem'), ca: join(l.home, 'tls', 'ca.crt') });

export const plaintextBrokers = (l: ClusterLayout) => Array.from({ length: l.nodes }, (_, i) => `127.0.0.1:${nodePorts(l, i).plaintext}`).join(',');
export const secureBrokers = (l: ClusterLayout) => Array.from({ length: l.nodes }, (_, i) => `127.0.0.1:${nodePorts(l, i).secure}`).join(',');

/**
 * Passwords of the cluster's principals, made once per data directory (mode 0600). A stage added
 * since gets one too, so no broker setting ever holds an empty password; its SCRAM login exists
 * once the cluster is made anew (`up --clean`), as SCRAM users are created when storage is formatted.
 */
export function clusterCredentials(l: ClusterLayout): Record<KafkaUser, string> {
  const file = clusterFiles(l).credentials;
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<KafkaUser, string>) : {};
  const missing = KAFKA_USERS.filter((u) => known[u] === undefined);
  if (missing.length === 0) return known;
  mkdirSync(l.home, { recursive: true });
  const all = { ...known, ...Object.fromEntries(missing.map((u) => [u, randomBytes(18).toString('base64url')])) };
  writeFileSync(file, JSON.stringify(all), { mode: 0o600 });
  return all;
}

/** The settings of a client logging in as `user` on the SASL_SSL listeners (shared/kafka/security.ts). */
export function clusterClientEnv(l: ClusterLayout, user: KafkaUser, mechanism: 'SCRAM-SHA-512' | 'PLAIN' = 'SCRAM-SHA-512'): Record<string, string> {
  return {
    KAFKA_BROKERS: secureBrokers(l),
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD: clusterCredentials(l)[user] ?? '',
    KAFKA_SSL_CA: clusterFiles(l).ca,
  };
}

/** The principals whose SCRAM logins the cluster has (written at format time, and as logins are added). */
const scramFile = (l: ClusterLayout) => join(l.home, 'scram-users.json');

/**
 * Gives every principal of the catalogue its SCRAM login on a running cluster formatted before its
 * stage existed, so a new stage needs no `up --clean`. Once per principal: remembered in a file.
 */
export function ensureScramLogins(l: ClusterLayout): string[] {
  const have = new Set<string>(existsSync(scramFile(l)) ? (JSON.parse(readFileSync(scramFile(l), 'utf8')) as string[]) : []);
  const missing = KAFKA_USERS.filter((u) => !have.has(u));
  const passwords = clusterCredentials(l);
  for (const u of missing) {
    addScramUser(l, u, passwords[u]!);
    have.add(u);
    writeFileSync(scramFile(l), JSON.stringify([...have]));
  }
  return missing;
}

/**
 * Adds (or renews) a SCRAM-SHA-512 login on a running cluster, with Kafka's own ConfigCommand over
 * the operator's loopback listener: how a town edge's login is made without formatting anything.
 */
export function addScramUser(l: ClusterLayout, user: string, password: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(password)) throw new Error('a SCRAM password here is base64url');
  run('java', ['-Xmx256m', '-cp', classpath, 'kafka.admin.ConfigCommand', '--bootstrap-server', plaintextBrokers(l), '--alter', '--entity-type', 'users', '--entity-name', user, '--add-config', `SCRAM-SHA-512=[iterations=8192,password=${password}]`], { what: `adding Kafka login ${user}` });
}

/** The key and certificate chain of the SASL_SSL listeners (Kafka reads a PEM keystore). */
async function brokerKeystore(l: ClusterLayout): Promise<void> {
  const f = clusterFiles(l);
  if (existsSync(f.keystore)) return;
  const ca = await openLocalCa(f.tls);
  const issued = await issueCertificate(ca, { serverNames: ['127.0.0.1', 'localhost'], days: 825 });
  writeFileSync(f.keystore, `${issued.keyPem}\n${issued.certPem}\n${ca.cert.toString('pem')}\n`, { mode: 0o600 });
}

function serverProperties(l: ClusterLayout, i: number): string {
  const passwords = clusterCredentials(l);
  const plainUsers = KAFKA_USERS.map((u) => `user_${u}="${passwords[u]}"`).join(' ');
  const p = nodePorts(l, i);
  const voters = Array.from({ length: l.nodes }, (_, j) => `${j + 1}@127.0.0.1:${nodePorts(l, j).controller}`).join(',');
  // Internal topics as replicated as the cluster allows; with three nodes a write needs two copies.
  const rf = Math.min(3, l.nodes);
  const minIsr = rf >= 3 ? 2 : 1;
  return [
    'process.roles=broker,controller',
    `node.id=${i + 1}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${p.plaintext},CONTROLLER://127.0.0.1:${p.controller},SASL_SSL://127.0.0.1:${p.secure}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p.plaintext},SASL_SSL://127.0.0.1:${p.secure}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${clusterFiles(l).keystore}`,
    'ssl.client.auth=requested',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // ANONYMOUS is the loopback PLAINTEXT listener's (and the controllers') principal.
    'super.users=User:admin;User:ANONYMOUS',
    'allow.everyone.if.no.acl.found=false',
    `log.dirs=${clusterNode(l, i).dataDir}`,
    // The project creates its topics itself (docs/architecture.md): a typo must not create a topic.
    'auto.create.topics.enable=false',
    'num.partitions=6',
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${rf}`,
    'offsets.topic.num.partitions=6',
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    `log.retention.hours=${BUS_RETENTION_HOURS}`,
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

const javaOpts = (dir: string) => ['-Xms256m', '-Xmx768m', `-Dlog4j2.configurationFile=${join(dir, 'log4j2.xml')}`, '-cp', classpath];

export const nodePid = (l: ClusterLayout, i: number) => readPid(clusterNode(l, i).pidFile);

/** Formats (first start) and starts every node that is not running. */
export async function startCluster(l: ClusterLayout, { clean = false } = {}): Promise<void> {
  installKafka();
  const f = clusterFiles(l);
  const nodes = Array.from({ length: l.nodes }, (_, i) => i);
  // SCRAM credentials are written when the log directories are formatted: directories from before
  // them (or without their credentials file), or of another cluster size, start again empty.
  const sizeFile = join(l.home, 'nodes');
  const sized = existsSync(sizeFile) && readFileSync(sizeFile, 'utf8').trim() === String(l.nodes);
  if (clean || !existsSync(f.credentials) || !sized) {
    for (const i of nodes) rmSync(clusterNode(l, i).dataDir, { recursive: true, force: true });
    rmSync(f.credentials, { force: true });
  }
  mkdirSync(l.home, { recursive: true });
  writeFileSync(sizeFile, `${l.nodes}\n`);
  await brokerKeystore(l);
  let clusterId: string | undefined;
  for (const i of nodes) {
    const n = clusterNode(l, i);
    if (nodePid(l, i) !== undefined) continue;
    const ports = nodePorts(l, i);
    for (const port of [ports.plaintext, ports.controller, ports.secure]) if (await portOpen(port)) throw new Error(`port ${port} is taken by another process; set LOCAL_KAFKA_PORT`);
    mkdirSync(n.dir, { recursive: true });
    writeFileSync(n.props, serverProperties(l, i));
    writeFileSync(join(n.dir, 'log4j2.xml'), log4j);
    if (!existsSync(join(n.dataDir, 'meta.properties'))) {
      // Every node of a cluster is formatted with the same cluster id.
      clusterId ??= run('java', [...javaOpts(n.dir), 'kafka.tools.StorageTool', 'random-uuid'], { what: 'kafka random-uuid' }).trim().split('\n').pop()!;
      const passwords = clusterCredentials(l);
      const scram = KAFKA_USERS.flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u},password=${passwords[u]}]`]);
      run('java', [...javaOpts(n.dir), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', n.props, ...scram], { what: `formatting Kafka node ${n.id}'s log directory` });
      writeFileSync(scramFile(l), JSON.stringify(KAFKA_USERS));
    }
    startDaemon({ command: 'java', args: [...javaOpts(n.dir), 'kafka.Kafka', n.props], cwd: n.dir, logFile: n.logFile, pidFile: n.pidFile });
  }
}

/** Ready means every node answers the Kafka protocol and the cluster has elected a controller. */
export async function waitClusterReady(l: ClusterLayout, timeoutMs = 90_000): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ brokers: plaintextBrokers(l).split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  await waitFor(
    l.nodes === 1 ? 'Kafka' : `Kafka (${l.nodes} brokers)`,
    async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length === l.nodes && cluster.controller !== null;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    timeoutMs,
    clusterNode(l, 0).logFile,
  );
}

/** Stops every node (SIGTERM, then SIGKILL after the grace time); true if any was running. */
export async function stopCluster(l: ClusterLayout): Promise<boolean> {
  let any = false;
  // Node directories beyond the current size may hold nodes of an earlier, larger cluster.
  for (let i = 0; i < Math.max(l.nodes, 3); i++) if (await stopDaemon(clusterNode(l, i).pidFile, 30_000)) any = true;
  return any;
}

/** SIGKILL one node, as a crashed machine would go: no shutdown, no leadership handed over. */
export async function killNode(l: ClusterLayout, i: number): Promise<void> {
  const pid = nodePid(l, i);
  if (pid === undefined) throw new Error(`Kafka node ${i + 1} is not running`);
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  rmSync(clusterNode(l, i).pidFile, { force: true });
}
