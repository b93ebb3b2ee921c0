/**
 * Who may do what on the bus, defined once: each service's Kafka principal gets only what its
 * work needs. The gateway may only produce raw envelopes (and ingest-stage dead letters); each
 * worker reads its input under its own consumer group and writes its outputs. Every service may
 * describe the pipeline's topics (metadata only), which is how it checks they exist at start-up.
 */
import kafkajs, { type AclEntry, type Admin } from 'kafkajs';

// kafkajs is CommonJS and its ACL enums are not visible as named ESM exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export const BUS_SERVICES = ['gateway', 'normalizer', 'writer', 'aggregator'] as const;
export type BusService = (typeof BUS_SERVICES)[number];

export interface BusNames {
  topics: { raw: string; normalized: string; deadletter: string };
  /** Consumer group of each worker. */
  groups: { normalizer: string; writer: string; aggregator: string };
}

/**
 * The names a deployment uses: its topic settings, and each worker's consumer group — by default
 * the worker's own name, as its BUS_GROUP_ID defaults to.
 */
export function busNames(t: { TOPIC_RAW: string; TOPIC_NORMALIZED: string; TOPIC_DEADLETTER: string }, groups: Partial<BusNames['groups']> = {}): BusNames {
  const named = Object.fromEntries(Object.entries(groups).filter(([, g]) => g !== undefined));
  return {
    topics: { raw: t.TOPIC_RAW, normalized: t.TOPIC_NORMALIZED, deadletter: t.TOPIC_DEADLETTER },
    groups: { normalizer: 'normalizer', writer: 'writer', aggregator: 'aggregator', ...named },
  };
}

export interface Grant {
  resource: 'topic' | 'group';
  name: string;
  operation: 'READ' | 'WRITE' | 'DESCRIBE';
}

const topic = (name: string, operation: Grant['operation']): Grant => ({ resource: 'topic', name, operation });
const group = (name: string, operation: Grant['operation']): Grant => ({ resource: 'group', name, operation });

export function busGrants({ topics, groups }: BusNames): Record<BusService, Grant[]> {
  const describeAll = [topics.raw, topics.normalized, topics.deadletter].map((t) => topic(t, 'DESCRIBE'));
  return {
    gateway: [...describeAll, topic(topics.raw, 'WRITE'), topic(topics.deadletter, 'WRITE')],
    normalizer: [...describeAll, topic(topics.raw, 'READ'), group(groups.normalizer, 'READ'), topic(topics.normalized, 'WRITE'), topic(topics.deadletter, 'WRITE')],
    writer: [...describeAll, topic(topics.normalized, 'READ'), group(groups.writer, 'READ'), topic(topics.deadletter, 'WRITE')],
    // It reads the writer group's committed offsets (describe) before recomputing a late window.
    aggregator: [...describeAll, topic(topics.normalized, 'READ'), group(groups.aggregator, 'READ'), group(groups.writer, 'DESCRIBE'), topic(topics.deadletter, 'WRITE')],
  };
}

export function aclEntries(principal: string, grants: Grant[]): AclEntry[] {
  return grants.map((g) => ({
    resourceType: g.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: g.name,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: `User:${principal}`,
    host: '*',
    operation: AclOperationTypes[g.operation],
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/** Grants every service its rights on these topics and groups (idempotent: Kafka keeps one copy). */
export async function grantBusAcls(admin: Admin, names: BusNames, principalOf: (s: BusService) => string = (s) => s): Promise<void> {
  const grants = busGrants(names);
  await admin.createAcls({ acl: BUS_SERVICES.flatMap((s) => aclEntries(principalOf(s), grants[s])) });
}
