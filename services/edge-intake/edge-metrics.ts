/**
 * The centre's view of its edges, as metrics (the monitor writes them to the store, where the
 * pipeline-health dashboard and the operators' API read them): every configured edge, from the
 * start, whether it has reported yet or not.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EdgeStatus } from '../../shared/edge/status.ts';
import { EDGE_METRIC } from '../../shared/edge/view.ts';

export function createEdgeMetrics(registry: Registry, edges: readonly string[]) {
  const registers = [registry];
  const m = {
    forwarded: new Counter({ name: 'edge_intake_records_forwarded_total', help: "Records from an edge's topic passed on to the raw topic", labelNames: ['edge'], registers }),
    refused: new Counter({ name: 'edge_intake_records_refused_total', help: 'Records from an edge refused (dead-lettered), by rejection code: another municipality, another device, a broken envelope', labelNames: ['edge', 'code'], registers }),
    lastStatus: new Gauge({ name: EDGE_METRIC.lastStatus, help: "When the edge's last status record was sent (its clock); 0 = none since the intake started", labelNames: ['edge'], registers }),
    direct: new Gauge({ name: EDGE_METRIC.direct, help: 'The edge forwards straight to the centre (1) or spools (0), as of its last status', labelNames: ['edge'], registers }),
    since: new Gauge({ name: EDGE_METRIC.since, help: 'Since when the edge has been in its current mode (direct or spooling), as of its last status', labelNames: ['edge'], registers }),
    backlogBytes: new Gauge({ name: EDGE_METRIC.backlogBytes, help: "Bytes in the edge's spool, as of its last status", labelNames: ['edge'], registers }),
    backlogRecords: new Gauge({ name: EDGE_METRIC.backlogRecords, help: "Records in the edge's spool, as of its last status", labelNames: ['edge'], registers }),
    oldestUnsent: new Gauge({ name: EDGE_METRIC.oldestUnsent, help: "When the oldest reading still in the edge's spool was accepted; 0 = none", labelNames: ['edge'], registers }),
  };
  const latest = new Map<string, number>();
  for (const edge of edges) {
    m.forwarded.inc({ edge }, 0);
    m.lastStatus.set({ edge }, 0);
  }
  return {
    ...m,
    report(s: EdgeStatus) {
      const edge = s.edgeId;
      // A status replayed after a rebalance is older than the one shown: it never overwrites it.
      if (s.at <= (latest.get(edge) ?? -1)) return;
      latest.set(edge, s.at);
      m.lastStatus.set({ edge }, s.at / 1000);
      m.direct.set({ edge }, s.direct ? 1 : 0);
      m.since.set({ edge }, s.since / 1000);
      m.backlogBytes.set({ edge }, s.spoolBytes);
      m.backlogRecords.set({ edge }, s.spoolRecords);
      m.oldestUnsent.set({ edge }, (s.oldestUnsentAt ?? 0) / 1000);
    },
  };
}
