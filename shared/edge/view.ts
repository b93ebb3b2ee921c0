/**
 * The centre's view of its town edges: what the edge intake exports of each edge's last status
 * (metric names defined here, once), and how an operator reads them back from the store, where the
 * monitor writes every pipeline metric — every edge, connected or not, since when, its backlog and
 * its oldest unsent reading.
 */

/** The intake's per-edge gauges (label `edge`), as the monitor stores them (fields of measurement `pipeline`). */
export const EDGE_METRIC = {
  lastStatus: 'edge_intake_edge_last_status_timestamp_seconds',
  direct: 'edge_intake_edge_direct',
  since: 'edge_intake_edge_since_timestamp_seconds',
  backlogBytes: 'edge_intake_edge_backlog_bytes',
  backlogRecords: 'edge_intake_edge_backlog_records',
  oldestUnsent: 'edge_intake_edge_oldest_unsent_timestamp_seconds',
} as const;

/**
 * An edge is cut off once its last status is older than this: it reports every 5 s
 * (`EDGE_STATUS_INTERVAL_MS`) and the monitor stores what the intake exports every 10 s.
 */
export const EDGE_STALE_AFTER_MS = 60_000;

/** How far back the operators' view looks for an edge's last figures. */
export const EDGE_VIEW_LOOKBACK_MS = 30 * 86_400_000;

/** An edge's last stored figures: field name → value. */
export interface EdgeFigures {
  edge: string;
  fields: Record<string, number>;
}

export interface EdgeSource {
  /** The last stored value of each `EDGE_METRIC` field per edge, looking back to `since` (epoch ms). */
  edgeFigures(since: number): Promise<EdgeFigures[]>;
}

export interface EdgeView {
  edge: string;
  /** It reported within `staleAfterMs`. */
  connected: boolean;
  /** Its last status (its clock), ISO-8601; null if it never reported. */
  lastContactAt: string | null;
  /** Forwarding straight to the centre, or spooling, as of its last status. */
  mode: 'direct' | 'spooling' | 'unknown';
  /** Since when: in that mode while connected; its last contact while cut off. */
  since: string | null;
  backlogBytes: number;
  backlogRecords: number;
  /** When the oldest reading it still holds was accepted; null when none. */
  oldestUnsentAt: string | null;
}

const iso = (seconds: number | undefined) => (seconds !== undefined && seconds > 0 ? new Date(seconds * 1000).toISOString() : null);

/** The view of each edge from its stored figures (pure: `now` is given). */
export function edgeViews(figures: EdgeFigures[], now: number, staleAfterMs: number): EdgeView[] {
  return figures
    .map(({ edge, fields: f }) => {
      const last = f[EDGE_METRIC.lastStatus] ?? 0;
      const connected = last > 0 && now - last * 1000 <= staleAfterMs;
      const reported = last > 0;
      return {
        edge,
        connected,
        lastContactAt: iso(last),
        mode: !reported ? ('unknown' as const) : f[EDGE_METRIC.direct] === 1 ? ('direct' as const) : ('spooling' as const),
        since: connected ? iso(f[EDGE_METRIC.since]) : iso(last),
        backlogBytes: f[EDGE_METRIC.backlogBytes] ?? 0,
        backlogRecords: f[EDGE_METRIC.backlogRecords] ?? 0,
        oldestUnsentAt: iso(f[EDGE_METRIC.oldestUnsent]),
      };
    })
    .sort((a, b) => Number(a.connected) - Number(b.connected) || a.edge.localeCompare(b.edge));
}
