/**
 * Calls into a worker thread, awaited like any I/O. node:sqlite is synchronous: an fsync'd commit
 * on the main thread stops everything else in the process (in `npm start`, the gateway's MQTT
 * connections and PUBACKs) until the disk answers. A thread that owns the commit lets the event
 * loop go on while the disk works.
 *
 * `ThreadCalls` (the caller's side) starts the thread at the first call, keeps the process alive
 * only while calls are pending, and rejects every pending call when the thread dies (the next
 * call starts a new one). `answerCalls` (the thread's side) runs each call's handler in arrival
 * order. Errors come back with what callers tell them apart by: their class (TypeError,
 * RangeError, Error), message and SQLite's `errcode`.
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

/** The thread's side: answers each call with its handler's result (awaited), in arrival order. */
export function answerCalls(handlers: Handlers): void {
  const port = parentPort;
  if (!port) throw new Error('answerCalls runs inside a worker thread');
  let chain = Promise.resolve();
  port.on('message', (call: Call) => {
    chain = chain.then(async () => {
      let answer: Answer;
      try {
        const handler = handlers[call.op];
        if (!handler) throw new Error(`no such call '${call.op}'`);
        answer = { id: call.id, ok: true, value: await handler(call.arg as never) };
      } catch (err) {
        answer = { id: call.id, ok: false, error: carry(err) };
      }
      port.postMessage(answer);
    });
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
