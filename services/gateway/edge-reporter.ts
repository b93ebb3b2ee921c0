/**
 * A town edge tells the centre of itself every `EDGE_STATUS_INTERVAL_MS`: forwarding directly or
 * spooling, since when, and how much its spool holds since when. The record goes on the edge's own
 * topic straight away (not through the spool: it is news of now, worthless once late), by a
 * producer that gives up quickly; with the link down it simply does not arrive, and the centre sees
 * the last report age.
 */
import type { Bus } from '../../shared/bus/bus.ts';
import { sideProducer } from './side-producer.ts';
import { edgeStatusKey, type EdgeStatus } from '../../shared/edge/status.ts';
import type { Logger } from '../../shared/logging.ts';
import type { Forwarder } from './forwarder.ts';
import type { Spool } from './spool.ts';

export function edgeStatusOf(edgeId: string, forwarder: Pick<Forwarder, 'direct' | 'since'>, spool: Pick<Spool, 'depthBytes' | 'depthRecords' | 'oldestTimestamp'>, now = Date.now()): EdgeStatus {
  return { edgeId, at: now, direct: forwarder.direct, since: forwarder.since, spoolBytes: spool.depthBytes, spoolRecords: spool.depthRecords, oldestUnsentAt: spool.oldestTimestamp() ?? null };
}

export function startEdgeReporter(o: { bus: Bus; topic: string; edgeId: string; intervalMs: number; forwarder: Forwarder; spool: Spool; log: Logger }): { stop(): Promise<void> } {
  const producer = sideProducer(o.bus);
  let sending = false;
  const report = async () => {
    if (sending) return;
    sending = true;
    try {
      const status = edgeStatusOf(o.edgeId, o.forwarder, o.spool);
      await producer.send(o.topic, [{ key: edgeStatusKey(o.edgeId), value: JSON.stringify(status) }]);
    } catch (err) {
      o.log.debug({ err: (err as Error).message }, 'edge status not sent (the link to the centre is down?)');
    } finally {
      sending = false;
    }
  };
  const timer = setInterval(() => void report(), o.intervalMs);
  timer.unref();
  void report();
  return {
    async stop() {
      clearInterval(timer);
      await producer.close();
    },
  };
}
