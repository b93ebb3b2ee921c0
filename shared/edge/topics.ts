/**
 * Where a town's edge gateway writes: a topic of its own, `<TOPIC_RAW>.edge.<edgeId>`, which only
 * its Kafka login may write. The central edge intake reads every edge topic (their common prefix),
 * checks each record against what the edge may send, and passes it on to the raw topic. Kafka's
 * ACLs say who writes which topic; they cannot say what a record may claim, so the intake does.
 */

/** The prefix every edge topic shares (the intake's read grant is on this prefix). */
export const edgeTopicPrefix = (rawTopic: string) => `${rawTopic}.edge.`;

/** The topic of one edge. */
export const edgeTopic = (rawTopic: string, edgeId: string) => `${edgeTopicPrefix(rawTopic)}${edgeId}`;

/** The edge a topic belongs to, or undefined for a topic that is not an edge topic. */
export function edgeOfTopic(rawTopic: string, topic: string): string | undefined {
  const prefix = edgeTopicPrefix(rawTopic);
  return topic.startsWith(prefix) && topic.length > prefix.length ? topic.slice(prefix.length) : undefined;
}

/** An edge's Kafka principal. */
export const edgePrincipal = (edgeId: string) => `edge-${edgeId}`;
