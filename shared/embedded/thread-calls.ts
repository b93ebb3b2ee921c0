/**
 * Calls into a worker thread, awaited like any I/O. node:sqlite is synchronous: an fsync'd commit
 * on the main thread stops everything else in the process (in `npm start`, the gateway's MQTT
 * connections and PUBACKs) until the disk answers. A thread that owns the commit lets the event
 * loop go on while the disk works.
 *
 * `ThreadCalls` (the caller's side) starts the thread at the first call, keeps the process alive
 * only while calls are pending, and rejects every pending call when the thread dies (the next
 * call starts a new one). `answerCalls` (the thread's side) runs each call's handler in arrival
 * order; `answerCallBatches` hands a thread every call waiting at once (for group commit). Errors
 * come back with what callers tell them apart by: their class (TypeError, RangeError, Error),
 * message and SQLite's `errcode`.
 */
import { parentPort, Worker } from 'node:worker_threads';

type Handlers = Record<string, (arg: never) => unknown>;

interface Call {
  id: number;
  op: string;
  arg: unknown;
}

interface CarriedError {
  name: string;
  message: string;
  errcode?: number;
}

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: CarriedError };

const carry = (err: unknown): CarriedError => {
  const e = err instanceof Error ? err : new Error(String(err));
  const errcode = (e as { errcode?: unknown }).errcode;
  return { name: e.name, message: e.message, ...(typeof errcode === 'number' ? { errcode } : {}) };
};

const rebuild = (c: CarriedError): Error => {
  const Kind = c.name === 'TypeError' ? TypeError : c.name === 'RangeError' ? RangeError : Error;
  const err = new Kind(c.message);
  if (c.name !== err.name) err.name = c.name;
  if (c.errcode !== undefined) Object.assign(err, { errcode: c.errcode });
  return err;
};

/** What became of one call, on the thread's side. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The thread's side, a batch at a time: every call that arrived while the previous batch was
 * being answered is handed to `answerAll` together (in arrival order), so a thread can make one
 * commit for all of them. `answerAll` gives one outcome per call, in the same order.
 */
export function answerCallBatches(answerAll: (calls: { op: string; arg: unknown }[]) => Outcome[] | Promise<Outcome[]>): void {
  const port = parentPort;
  if (!port) throw new Error('answerCalls runs inside a worker thread');
  const queue: Call[] = [];
  let scheduled = false;
  const drain = async () => {
    const calls = queue.splice(0);
    let outcomes: Outcome[];
    try {
      outcomes = await answerAll(calls);
    } catch (err) {
      outcomes = calls.map(() => ({ ok: false, error: err }));
    }
    calls.forEach((c, i) => {
      const o = outcomes[i] ?? { ok: false, error: new Error('no answer') };
      port.postMessage((o.ok ? { id: c.id, ok: true, value: o.value } : { id: c.id, ok: false, error: carry(o.error) }) satisfies Answer);
    });
    scheduled = queue.length > 0;
    if (scheduled) setImmediate(() => void drain());
  };
  port.on('message', (call: Call) => {
    queue.push(call);
    // After the messages already waiting on the port: they join this batch.
    if (!scheduled) setImmediate(() => void drain());
    scheduled = true;
  });
}

/** The thread's side, one call at a time: each call's handler (awaited), in arrival order. */
export function answerCalls(handlers: Handlers): void {
  answerCallBatches(async (calls) => {
    const outcomes: Outcome[] = [];
    for (const c of calls) {
      try {
        const handler = handlers[c.op];
        if (!handler) throw new Error(`no such call '${c.op}'`);
        outcomes.push({ ok: true, value: await handler(c.arg as never) });
      } catch (err) {
        outcomes.push({ ok: false, error: err });
      }
    }
    return outcomes;
  });
}

/** The caller's side of one worker thread running `script` (which calls `answerCalls`). */
export class ThreadCalls<H extends Handlers> {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly script: URL;
  private readonly workerData: unknown;

  constructor(script: URL, workerData: unknown) {
    this.script = script;
    this.workerData = workerData;
  }

  call<K extends keyof H & string>(op: K, arg: Parameters<H[K]>[0]): Promise<Awaited<ReturnType<H[K]>>> {
    const worker = this.started();
    const id = this.nextId++;
    const answered = new Promise<Awaited<ReturnType<H[K]>>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, op, arg } satisfies Call);
    });
    this.inflight.add(answered);
    const forget = () => this.inflight.delete(answered);
    answered.then(forget, forget);
    return answered;
  }

  /** Waits for pending calls, then stops the thread. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private readonly inflight = new Set<Promise<unknown>>();

  private settle(id: number, fn: (p: { resolve: (v: unknown) => void; reject: (e: Error) => void }) => void) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    fn(p);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { workerData: this.workerData });
    worker.unref();
    worker.on('message', (a: Answer) => this.settle(a.id, (p) => (a.ok ? p.resolve(a.value) : p.reject(rebuild(a.error)))));
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(new Error(`worker thread ${this.script.pathname} stopped: ${why}`)));
    };
    worker.on('error', (err: Error) => died(err.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}
