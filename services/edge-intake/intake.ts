/**
 * The edge intake: every town edge's topic → `telemetry.raw` | `telemetry.deadletter`, as a batch
 * processor (`shared/stages/batch-runner.ts` consumes, produces, dead-letters and commits). Each
 * record is checked by the pure rules of `shared/edge/intake-check.ts` against the edge whose topic
 * it came from; what passes goes on unchanged (same key, value and record time, so the normaliser
 * sees exactly what a central gateway would have written), what does not becomes a dead letter
 * naming the edge and the reason, counted per edge and logged (sampled: an edge cannot flood the
 * log). Status records update the centre's view of the edges.
 */
import type { BusMessage, BusRecord } from '../../shared/bus/bus.ts';
import { checkEdgeRecord, type EdgeVerdict } from '../../shared/edge/intake-check.ts';
import { edgeOfTopic, edgeTopic } from '../../shared/edge/topics.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import type { DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { REJECT } from '../../shared/schemas/rejections.ts';
import { SampledLog } from '../../shared/sampled-log.ts';
import { runBatches, type BatchProcessor } from '../../shared/stages/batch-runner.ts';
import type { RunningWorker, WorkerDeps } from '../../shared/stages/worker.ts';
import type { EdgeIntakeConfig } from './config.ts';
import { createEdgeMetrics } from './edge-metrics.ts';

/** The topics of the configured edges. */
export const intakeTopics = (cfg: Pick<EdgeIntakeConfig, 'TOPIC_RAW' | 'EDGE_SCOPES'>) => Object.keys(cfg.EDGE_SCOPES).map((edge) => edgeTopic(cfg.TOPIC_RAW, edge));

export async function startEdgeIntake(cfg: EdgeIntakeConfig, deps: WorkerDeps & { devices: DeviceRegistry }): Promise<RunningWorker> {
  const edges = Object.keys(cfg.EDGE_SCOPES);
  if (edges.length === 0) throw new Error('EDGE_SCOPES names no edge: nothing to take in');
  const metrics = createEdgeMetrics(deps.registry, edges);
  const refusals = new SampledLog(deps.log);

  const processor: BatchProcessor<BusRecord> = {
    decode: (m) => m,
    async process({ topic, partition, records }) {
      const edgeId = edgeOfTopic(cfg.TOPIC_RAW, topic) ?? topic;
      const scope = cfg.EDGE_SCOPES[edgeId] ?? [];
      const forward: BusMessage[] = [];
      const passedOn: BusMessage[] = [];
      const deadLetters: DeadLetterInput[] = [];
      const refused = new Map<string, number>();
      const statuses: Extract<EdgeVerdict, { verdict: 'status' }>['status'][] = [];
      for (const { value: m } of records) {
        const key = m.key?.toString('utf8');
        const value = m.value?.toString('utf8') ?? '';
        const v = checkEdgeRecord({ edgeId, scope, key, value }, (id) => deps.devices.get(id));
        if (v.verdict === 'forward') forward.push({ key: key!, value: m.value!, timestamp: m.timestamp });
        else if (v.verdict === 'status') statuses.push(v.status);
        else if (v.verdict === 'deadletter') passedOn.push({ key: v.key, value: m.value!, timestamp: m.timestamp });
        else {
          const { rejection } = v;
          refused.set(rejection.code, (refused.get(rejection.code) ?? 0) + 1);
          // Who it belongs to only when the edge may speak for it: a forged record must not turn up among another town's or device's dead letters.
          const owned = v.envelope && rejection.code !== REJECT.EDGE_SCOPE ? { deviceId: v.envelope.deviceId, municipality: v.envelope.municipality, kind: v.envelope.kind } : {};
          refusals.warn(`${edgeId}:${rejection.code}`, { edge: edgeId, code: rejection.code, field: rejection.field, reason: rejection.reason, partition, offset: m.offset }, "refused a record from an edge's topic");
          deadLetters.push({ rejections: [rejection], ...owned, source: { topic, partition, offset: m.offset }, original: value });
        }
      }
      return {
        produce: [
          { topic: cfg.TOPIC_RAW, messages: forward },
          { topic: cfg.TOPIC_DEADLETTER, messages: passedOn },
        ],
        deadLetters,
        onProduced: () => {
          metrics.forwarded.inc({ edge: edgeId }, forward.length);
          for (const [code, n] of refused) metrics.refused.inc({ edge: edgeId, code }, n);
          for (const s of statuses) metrics.report(s);
        },
      };
    },
  };

  return runBatches(processor, deps, { cfg, topic: intakeTopics(cfg), consume: { concurrency: 6, maxBytesPerPartition: 1024 * 1024 } });
}
