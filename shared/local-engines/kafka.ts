/**
 * A real Apache Kafka broker, single node in KRaft mode on loopback. The jars come from Maven
 * Central through `deploy/kafka/pom.xml` (Maven's own dependency copying) and run on Java 17.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KAFKA_VERSION, cacheHome, kafkaControllerPort, kafkaPort, runHome } from './paths.ts';
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

function serverProperties(): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${kafkaControllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${kafkaControllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
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
  if (clean) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const props = join(home, 'server.properties');
  writeFileSync(props, serverProperties());
  writeFileSync(join(home, 'log4j2.xml'), log4j);
  const javaOpts = ['-Xms256m', '-Xmx768m', `-Dlog4j2.configurationFile=${join(home, 'log4j2.xml')}`, '-cp', classpath];
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const clusterId = run('java', [...javaOpts, 'kafka.tools.StorageTool', 'random-uuid'], { what: 'kafka random-uuid' }).trim().split('\n').pop()!;
    run('java', [...javaOpts, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], { what: 'formatting the Kafka log directory' });
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
