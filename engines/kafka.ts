/**
 * The local Kafka of `npm run services`: one node by default, or a cluster (`up --brokers 3`),
 * on loopback from LOCAL_KAFKA_PORT (9092). The cluster itself is shared/local-engines/
 * kafka-cluster.ts; this file is its default layout and what the CLI and the tests call.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterClientEnv, clusterCredentials, ensureScramLogins as ensureClusterLogins, clusterFiles, clusterNode, installKafka, kafkaInstalled, KAFKA_USERS, nodePid, plaintextBrokers, secureBrokers, startCluster, stopCluster, waitClusterReady, type ClusterLayout, type KafkaUser } from './kafka-cluster.ts';
import { kafkaPort, runHome } from './paths.ts';
import { provisionEdge } from './kafka-edges.ts';

const home = join(runHome, 'kafka');

/** The local layout: `nodes` when given (up --brokers N), else the size it was started with. */
export function localKafka(nodes?: number): ClusterLayout {
  const sizeFile = join(home, 'nodes');
  const started = existsSync(sizeFile) ? Number(readFileSync(sizeFile, 'utf8').trim()) : 1;
  return { home, nodes: nodes ?? (started > 0 ? started : 1), basePort: kafkaPort };
}

export { installKafka, kafkaInstalled, KAFKA_USERS, type KafkaUser };
export const kafkaLogFile = clusterNode(localKafka(1), 0).logFile;
/** The CA that signed the SASL_SSL listeners' certificate: what clients trust (KAFKA_SSL_CA). */
export const kafkaCaPath = clusterFiles(localKafka(1)).ca;

export const kafkaPid = () => nodePid(localKafka(), 0);
export const startKafka = ({ clean = false, brokers }: { clean?: boolean; brokers?: number } = {}) => startCluster(localKafka(brokers), { clean });
export const waitKafkaReady = (timeoutMs = 90_000) => waitClusterReady(localKafka(), timeoutMs);
export const stopKafka = () => stopCluster(localKafka());
export const kafkaBrokers = () => plaintextBrokers(localKafka());
export const kafkaSecureBrokers = () => secureBrokers(localKafka());
export const kafkaCredentials = () => clusterCredentials(localKafka());
/** Adds the SCRAM logins of stages added since the local cluster was formatted. */
export const ensureScramLogins = () => ensureClusterLogins(localKafka());
/** A town edge on the local cluster: its login, topic and rights (engines/kafka-edges.ts). */
export const provisionLocalEdge = (edgeId: string, municipalities: string[], env?: NodeJS.ProcessEnv) => provisionEdge(localKafka(), edgeId, municipalities, env);
/** The settings of a client logging in as `user` on the SASL_SSL listener (shared/kafka/security.ts). */
export const secureClientEnv = (user: KafkaUser, mechanism: 'SCRAM-SHA-512' | 'PLAIN' = 'SCRAM-SHA-512') => clusterClientEnv(localKafka(), user, mechanism);
