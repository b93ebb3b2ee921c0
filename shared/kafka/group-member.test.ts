import { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError, KafkaJSError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging.ts';
import { sleep } from '../time.ts';
import { type MemberEvents, keepMember, passesWithTime } from './group-member.ts';

const log = createLogger('t', 'silent');

/** Builds a kafkajs error as kafkajs's own code does (its type declarations leave out some constructors' arguments). */
const kafkaError = (kind: unknown, ...args: unknown[]): Error & { retriable?: boolean } => new (kind as new (...a: unknown[]) => Error)(...args);
const backoff = { initialMs: 5, maxMs: 20 };

/** Stand-ins for kafkajs consumers: each records its events and whether it was closed. */
class Members {
  readonly started: { id: number; events: MemberEvents; closed: boolean }[] = [];
  /** What each start does, in order: 'ok', or an error to throw; later starts succeed. */
  private readonly plan: (Error | 'ok')[];
  constructor(plan: (Error | 'ok')[] = []) {
    this.plan = plan;
  }
  start = async (events: MemberEvents) => {
    const step = this.plan[this.started.length] ?? 'ok';
    const m = { id: this.started.length, events, closed: false };
    this.started.push(m);
    if (step !== 'ok') throw step;
    return m;
  };
  close = async (m: { closed: boolean }) => {
    m.closed = true;
  };
  get last() {
    return this.started.at(-1)!;
  }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await sleep(5);
  expect(cond()).toBe(true);
};

describe('passesWithTime', () => {
  it('follows kafkajs for what it restarts, and adds a coordinator not found yet', () => {
    const notFound = kafkaError(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator');
    expect(passesWithTime(notFound)).toBe(true);
    // As the consumer's crash reports it: kafkajs's retrier wraps it (seen with a real broker going down).
    const reported = kafkaError(KafkaJSNonRetriableError, notFound, { cause: notFound });
    expect(reported.name).toBe('KafkaJSNonRetriableError');
    expect(reported.message).toBe('Failed to find group coordinator');
    expect(passesWithTime(reported)).toBe(true);
    expect(passesWithTime(kafkaError(KafkaJSConnectionError, 'Connection error: connect ECONNREFUSED'))).toBe(true);
    expect(passesWithTime(kafkaError(KafkaJSNumberOfRetriesExceeded, new Error('x'), { retryCount: 5, retryTime: 3000 }))).toBe(true);
    // kafkajs wraps a retriable protocol error in a non-retriable one; the cause decides.
    const cause = kafkaError(KafkaJSProtocolError, 'This is not the correct coordinator for this group', { retriable: true });
    const wrapped = kafkaError(KafkaJSError, 'Failed to join the group', { retriable: false, cause });
    expect(wrapped.retriable).toBe(false);
    expect(passesWithTime(wrapped)).toBe(true);
  });

  it('leaves errors no wait cures to the service: credentials refused, rights missing', () => {
    expect(passesWithTime(kafkaError(KafkaJSSASLAuthenticationError, 'SASL SCRAM SHA256 authentication failed'))).toBe(false);
    expect(passesWithTime(kafkaError(KafkaJSProtocolError, 'Not authorized to access topics', { retriable: false }))).toBe(false);
    expect(passesWithTime(new Error('anything else'))).toBe(false);
  });
});

describe('keepMember', () => {
  it('replaces a member that stopped for good with a coordinator not found, and reports nothing fatal', async () => {
    const members = new Members();
    const fatal: Error[] = [];
    const kept = await keepMember({ start: members.start, close: members.close, log, onFatal: (e) => fatal.push(e), backoff });
    const first = members.last;
    first.events.joined();
    first.events.stoppedForGood(kafkaError(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator'));
    await until(() => members.started.length === 2);
    await until(() => kept.current() === members.last);
    expect(first.closed).toBe(true);
    expect(members.last.closed).toBe(false);
    expect(fatal).toEqual([]);
    await kept.stop();
    expect(members.last.closed).toBe(true);
  });

  it('keeps trying while the broker is still away, then stays with the member that started', async () => {
    const refused = kafkaError(KafkaJSConnectionError, 'Connection error: connect ECONNREFUSED 127.0.0.1:19092');
    const members = new Members(['ok', refused, refused, refused]);
    const fatal: Error[] = [];
    let replacements = 0;
    const kept = await keepMember({ start: members.start, close: members.close, log, onFatal: (e) => fatal.push(e), onReplace: () => replacements++, backoff });
    members.last.events.stoppedForGood(kafkaError(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator'));
    await until(() => members.started.length === 5);
    await until(() => kept.current() === members.last);
    await sleep(60);
    expect(members.started).toHaveLength(5);
    expect(replacements, 'one for the crash, one for each refused start').toBe(4);
    expect(fatal).toEqual([]);
    await kept.stop();
  });

  it('hands an error no wait cures to onFatal, and replaces nothing', async () => {
    const members = new Members();
    const fatal: Error[] = [];
    const kept = await keepMember({ start: members.start, close: members.close, log, onFatal: (e) => fatal.push(e), backoff });
    const refused = kafkaError(KafkaJSSASLAuthenticationError, 'SASL SCRAM SHA256 authentication failed');
    members.last.events.stoppedForGood(refused);
    await sleep(60);
    expect(fatal).toEqual([refused]);
    expect(members.started).toHaveLength(1);
    await kept.stop();
  });

  it('ignores a stale member, and replaces nothing once stopped', async () => {
    const members = new Members();
    const kept = await keepMember({ start: members.start, close: members.close, log, onFatal: () => undefined, backoff });
    const first = members.last;
    first.events.stoppedForGood(kafkaError(KafkaJSGroupCoordinatorNotFound, 'x'));
    await until(() => members.started.length === 2);
    // The replaced member's late crash must not replace its successor.
    first.events.stoppedForGood(kafkaError(KafkaJSGroupCoordinatorNotFound, 'x'));
    await sleep(60);
    expect(members.started).toHaveLength(2);
    await kept.stop();
    members.last.events.stoppedForGood(kafkaError(KafkaJSGroupCoordinatorNotFound, 'x'));
    await sleep(60);
    expect(members.started).toHaveLength(2);
  });

  it('fails the caller when the first member cannot start, as any start does', async () => {
    const members = new Members([kafkaError(KafkaJSConnectionError, 'refused')]);
    await expect(keepMember({ start: members.start, close: members.close, log, onFatal: () => undefined, backoff })).rejects.toThrow('refused');
  });
});
