/**
 * A producer for the gateway's side records (its dead letters, an edge's status): opened on first
 * use, giving up quickly (these records are not readings; nothing waits on them), and opened
 * afresh after a failure so a lost connection is not kept.
 */
import type { Bus, BusMessage, BusProducer } from '../../shared/bus/bus.ts';

export function sideProducer(bus: Bus): { send(topic: string, messages: BusMessage[]): Promise<void>; close(): Promise<void> } {
  let producer: Promise<BusProducer> | undefined;
  const drop = () => {
    const p = producer;
    producer = undefined;
    void p?.then((x) => x.close()).catch(() => undefined);
  };
  return {
    async send(topic, messages) {
      producer ??= bus.producer({ failFast: true });
      try {
        await (await producer).send(topic, messages);
      } catch (err) {
        drop();
        throw err;
      }
    },
    close: async () => {
      await producer?.then((p) => p.close()).catch(() => undefined);
    },
  };
}
