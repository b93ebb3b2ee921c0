/**
 * Town edges on the local Kafka (`npm run services -- edge-login ID --municipality M`): each edge
 * gets a login of its own, a topic of its own and the right to write only there (and to follow the
 * central registry), and the centre's edge intake learns its scope. What this does by hand on a
 * production cluster is in docs/edge.md (kafka-configs, kafka-topics, kafka-acls).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { busEnv, parseConfig } from '#shared/config.ts';
import { aclEntries, busNames, edgeGrants } from '#shared/kafka/acls.ts';
import { ensureTopics } from '#shared/kafka/topics.ts';
import { edgePrincipal, edgeTopic } from '#shared/edge/topics.ts';
import { edgeScopesSchema, type EdgeScopes } from '#shared/edge/settings.ts';
import { addScramUser, clusterFiles, plaintextBrokers, secureBrokers, type ClusterLayout } from './kafka-cluster.ts';
import { DEFAULT_REGISTRY_TOPIC } from '#shared/kafka/registry-topic.ts';

const edgesFileSchema = z.record(z.string(), z.object({ password: z.string(), municipalities: z.array(z.string()) }));
const edgesFile = (l: ClusterLayout) => join(l.home, 'edges.json');

function readEdges(l: ClusterLayout): z.infer<typeof edgesFileSchema> {
  return existsSync(edgesFile(l)) ? edgesFileSchema.parse(JSON.parse(readFileSync(edgesFile(l), 'utf8'))) : {};
}

/** Every edge provisioned on this cluster and what it may send: the centre's `EDGE_SCOPES`. */
export function edgeScopes(l: ClusterLayout): EdgeScopes {
  return Object.fromEntries(Object.entries(readEdges(l)).map(([id, e]) => [id, e.municipalities]));
}

export interface ProvisionedEdge {
  /** The edge gateway's settings: its login, its towns, its id. */
  env: Record<string, string>;
  /** The centre's edge intake setting, every edge so far included. */
  scopes: EdgeScopes;
}

/** Makes (or updates) an edge: its login, topic and rights. Topic names follow the environment's settings. */
export async function provisionEdge(l: ClusterLayout, edgeId: string, municipalities: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProvisionedEdge> {
  edgeScopesSchema.parse({ [edgeId]: municipalities });
  const edges = readEdges(l);
  const password = edges[edgeId]?.password ?? randomBytes(18).toString('base64url');
  const user = edgePrincipal(edgeId);
  addScramUser(l, user, password);
  const cfg = parseConfig(busEnv, env);
  const names = busNames({ ...cfg, DEVICE_REGISTRY_TOPIC: env.DEVICE_REGISTRY_TOPIC || DEFAULT_REGISTRY_TOPIC });
  const topic = edgeTopic(cfg.TOPIC_RAW, edgeId);
  const kafka = new Kafka({ brokers: plaintextBrokers(l).split(','), logLevel: logLevel.NOTHING });
  await ensureTopics(kafka, [{ topic, partitions: cfg.BUS_PARTITIONS }]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: aclEntries(user, edgeGrants(names, edgeId)) });
  } finally {
    await admin.disconnect();
  }
  mkdirSync(l.home, { recursive: true });
  writeFileSync(edgesFile(l), JSON.stringify({ ...edges, [edgeId]: { password, municipalities } }), { mode: 0o600 });
  return {
    env: {
      KAFKA_BROKERS: secureBrokers(l),
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: password,
      KAFKA_SSL_CA: clusterFiles(l).ca,
      GATEWAY_ID: edgeId,
      EDGE_MUNICIPALITIES: municipalities.join(','),
      DEVICE_REGISTRY_TOPIC: names.registry,
    },
    scopes: edgeScopes(l),
  };
}
