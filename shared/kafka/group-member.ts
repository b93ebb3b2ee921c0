/**
 * Keeps a consumer in its group across the crashes kafkajs does not recover from by itself.
 *
 * kafkajs restarts a crashed consumer only when it judges the error retriable. Some errors it
 * judges final are not: while a broker goes down or comes back, it may answer a member's
 * connection but not name the group's coordinator, and the member that asks just then crashes
 * with KafkaJSGroupCoordinatorNotFound (wrapped by kafkajs's retrier as a KafkaJSNonRetriableError)
 * and stays stopped (kafkajs issues #1445, #1630; seen in test/pipeline/disruptions.test.ts and,
 * most runs, in test/bus/kafka-outage.test.ts). Such a member is replaced here by a fresh one,
 * after a backoff that grows while the replacements keep failing, until one joins the group.
 * Errors that stay final whatever the wait (credentials refused, rights missing) still reach
 * `onFatal`: the service exits and its supervisor decides.
 */
import type { Logger } from '../logging.ts';

/** kafkajs errors it will not restart a consumer for, though they pass once the cluster settles. */
const SETTLING_ERRORS = new Set(['KafkaJSGroupCoordinatorNotFound']);

/** The error and the causes it wraps, outermost first (kafkajs's retrier wraps what it gives up on). */
const causes = (err: Error): Error[] => {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error && cause !== err ? [err, ...causes(cause)] : [err];
};

/** Whether waiting can cure this error: kafkajs's own test for a restart, plus the errors above. */
export function passesWithTime(err: Error): boolean {
  const chain = causes(err);
  const original = chain.at(-1) as { retriable?: boolean };
  return err.name === 'KafkaJSNumberOfRetriesExceeded' || original.retriable === true || chain.some((e) => SETTLING_ERRORS.has(e.name));
}

export interface MemberEvents {
  /** The member joined its group (a rebuilt one has recovered). */
  joined(): void;
  /** The member stopped and will not restart by itself. */
  stoppedForGood(err: Error): void;
}

export interface KeptMember<M> {
  current(): M;
  stop(): Promise<void>;
}

export interface KeepMemberOptions<M> {
  /** Builds, connects and runs a new member; its events report through `events`. */
  start(events: MemberEvents): Promise<M>;
  /** Leaves the group and closes the member's connections. */
  close(member: M): Promise<void>;
  log: Logger;
  onFatal(err: Error): void;
  /** A replacement is scheduled (for a metric). */
  onReplace?(): void;
  backoff?: { initialMs: number; maxMs: number };
}

const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 30_000 };

/**
 * Starts the first member (its failure is the caller's, as at any start) and replaces it whenever
 * it stops for good with an error that passes with time.
 */
export async function keepMember<M>(o: KeepMemberOptions<M>): Promise<KeptMember<M>> {
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  let generation = 0;
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const eventsFor = (gen: number): MemberEvents => ({
    joined: () => {
      if (gen === generation) failures = 0;
    },
    stoppedForGood: (err) => {
      if (gen === generation && !stopped) replaceLater(err);
    },
  });

  const replaceLater = (err: Error) => {
    if (!passesWithTime(err)) {
      o.onFatal(err);
      return;
    }
    failures += 1;
    o.onReplace?.();
    const delayMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
    o.log.warn({ err: err.message, kind: err.name, attempt: failures, inMs: delayMs }, 'consumer stopped and will not restart by itself; replacing it');
    generation += 1;
    const gen = generation;
    timer = setTimeout(() => void replace(gen), delayMs);
  };

  const replace = async (gen: number) => {
    const old = member;
    await o.close(old).catch(() => undefined);
    if (stopped || gen !== generation) return;
    try {
      const fresh = await o.start(eventsFor(gen));
      if (stopped || gen !== generation) {
        await o.close(fresh).catch(() => undefined);
        return;
      }
      member = fresh;
      o.log.info({ attempt: failures }, 'replacement consumer started');
    } catch (err) {
      if (!stopped && gen === generation) replaceLater(err as Error);
    }
  };

  let member = await o.start(eventsFor(generation));
  return {
    current: () => member,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await o.close(member);
    },
  };
}
