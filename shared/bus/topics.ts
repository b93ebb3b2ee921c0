/** The pipeline's topics as specs for `Bus.ensureTopics`: their configured names and partition count. */
import type { TopicSpec } from './bus.ts';

/** The three pipeline topics with the configured names and partition count. */
export function pipelineTopics(cfg: { TOPIC_RAW: string; TOPIC_NORMALIZED: string; TOPIC_DEADLETTER: string; BUS_PARTITIONS: number }): TopicSpec[] {
  const base = { partitions: cfg.BUS_PARTITIONS };
  return [
    { topic: cfg.TOPIC_RAW, ...base },
    { topic: cfg.TOPIC_NORMALIZED, ...base },
    { topic: cfg.TOPIC_DEADLETTER, ...base },
  ];
}
