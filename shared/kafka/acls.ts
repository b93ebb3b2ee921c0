/**
 * Least privilege on the bus: each service's Kafka principal gets only what its work needs — the
 * topics it reads (under its own consumer group), those it writes, the groups whose progress it
 * watches. Who does what is the stage catalogue's to say (services/rights.ts). Every service may
 * describe the pipeline's topics (metadata only), which is how it checks they exist at start-up.
 */
import './kafkajs-speedups.ts'; // first: it replaces modules kafkajs loads as it loads
import kafkajs, { type AclEntry, type Admin } from 'kafkajs';
import type { TopicRole } from '../stages/stage.ts';
import { edgeTopic, edgeTopicPrefix } from '../edge/topics.ts';
import { DEFAULT_REGISTRY_TOPIC, REGISTRY_GROUP_PREFIX } from './registry-topic.ts';

// kafkajs is CommonJS and its ACL enums are not visible as named ESM exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** A service on the bus and what it does there (services/rights.ts derives these from the stage catalogue). */
export interface BusParty {
  /** Its principal, and its consumer group unless the deployment names another. */
  name: string;
  consumes: readonly TopicRole[];
  produces: readonly TopicRole[];
  /** Services whose consumer groups' committed offsets it reads. */
  watchesGroupsOf: readonly string[];
  /** It follows the central device registry (its topic, under groups named `registry-<name>-…`). */
  readsDevices?: boolean;
}

export interface BusNames {
  topics: Record<TopicRole, string>;
  /** The central device registry's topic. */
  registry: string;
  /** Consumer groups the deployment names otherwise than after their service. */
  groups: Record<string, string>;
}

/** The names a deployment uses: its topic settings, and any consumer group not named after its service. */
export function busNames(t: { TOPIC_RAW: string; TOPIC_NORMALIZED: string; TOPIC_DEADLETTER: string; DEVICE_REGISTRY_TOPIC?: string | undefined }, groups: Record<string, string | undefined> = {}): BusNames {
  const named = Object.fromEntries(Object.entries(groups).filter((e): e is [string, string] => e[1] !== undefined));
  return { topics: { raw: t.TOPIC_RAW, normalized: t.TOPIC_NORMALIZED, deadletter: t.TOPIC_DEADLETTER, edges: edgeTopicPrefix(t.TOPIC_RAW) }, registry: t.DEVICE_REGISTRY_TOPIC ?? DEFAULT_REGISTRY_TOPIC, groups: named };
}

export interface Grant {
  resource: 'topic' | 'group';
  name: string;
  operation: 'READ' | 'WRITE' | 'DESCRIBE';
  /** Every resource whose name starts with `name` (Kafka's PREFIXED pattern). */
  prefixed?: true;
}

const topic = (name: string, operation: Grant['operation']): Grant => ({ resource: 'topic', name, operation });
const group = (name: string, operation: Grant['operation']): Grant => ({ resource: 'group', name, operation });
/** A role's topic: `edges` names every edge's topic by their common prefix. */
const roleTopic = (topics: BusNames['topics'], role: TopicRole, operation: Grant['operation']): Grant => (role === 'edges' ? { ...topic(topics.edges, operation), prefixed: true } : topic(topics[role], operation));
/** What following the central registry takes: reading its topic under groups `registry-<service>-…`. */
const registryGrants = (registry: string, service: string): Grant[] => [topic(registry, 'DESCRIBE'), topic(registry, 'READ'), { ...group(`${REGISTRY_GROUP_PREFIX}${service}-`, 'READ'), prefixed: true }];

export function busGrants({ topics, registry, groups }: BusNames, parties: readonly BusParty[]): Record<string, Grant[]> {
  const describeAll = (Object.keys(topics) as TopicRole[]).map((t) => roleTopic(topics, t, 'DESCRIBE'));
  const groupOf = (service: string) => groups[service] ?? service;
  return Object.fromEntries(
    parties.map((p) => [
      p.name,
      [
        ...describeAll,
        ...p.consumes.map((t) => roleTopic(topics, t, 'READ')),
        ...(p.consumes.length > 0 ? [group(groupOf(p.name), 'READ')] : []),
        ...p.watchesGroupsOf.map((w) => group(groupOf(w), 'DESCRIBE')),
        ...p.produces.map((t) => roleTopic(topics, t, 'WRITE')),
        ...(p.readsDevices ? registryGrants(registry, p.name) : []),
      ],
    ]),
  );
}

/**
 * A town edge's rights: to write its own topic (and nothing of the pipeline's), and to follow the
 * central registry as a gateway does. What it writes there is checked by the edge intake.
 */
export function edgeGrants({ topics, registry }: BusNames, edgeId: string, gatewayService = 'gateway'): Grant[] {
  const own = edgeTopic(topics.raw, edgeId);
  return [topic(own, 'DESCRIBE'), topic(own, 'WRITE'), ...registryGrants(registry, gatewayService)];
}

export function aclEntries(principal: string, grants: Grant[]): AclEntry[] {
  return grants.map((g) => ({
    resourceType: g.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: g.name,
    resourcePatternType: g.prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: `User:${principal}`,
    host: '*',
    operation: AclOperationTypes[g.operation],
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/** Grants every party its rights on these topics and groups (idempotent: Kafka keeps one copy). */
export async function grantBusAcls(admin: Admin, names: BusNames, parties: readonly BusParty[], principalOf: (s: string) => string = (s) => s): Promise<void> {
  const grants = busGrants(names, parties);
  await admin.createAcls({ acl: parties.flatMap((p) => aclEntries(principalOf(p.name), grants[p.name]!)) });
}
