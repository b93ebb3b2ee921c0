/**
 * Calls into a worker thread, awaited like any I/O. node:sqlite is synchronous: an fsync'd commit
 * on the main thread stops everything else in the process (in `npm start`, the gateway's MQTT
 * connections and PUBACKs) until the disk answers. A thread that owns the commit lets the event
 * loop go on while the disk works.
 *
 * `ThreadCalls` (the caller's side) starts the thread at the first call, keeps the process alive
 * only while calls are pending, and rejects every pending call when the thread dies (the next
 * call starts a new one); `connect()` gives another thread of the process a port to call the same
 * thread on. `answerCalls` (the thread's side) runs each call's handler in arrival order;
 * `answerCallBatches` hands a thread every call waiting at once, from all its callers (for group
 * commit), and lets it send notices to all of them. Errors come back with what callers tell them
 * apart by: their class (TypeError, RangeError, Error), message and SQLite's `errcode`.
 */
import { MessageChannel, parentPort, Worker, type MessagePort } from 'node:worker_threads';

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
  code?: string;
  port?: number;
}

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: CarriedError };

const carry = (err: unknown): CarriedError => {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & { errcode?: unknown; code?: unknown; port?: unknown };
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.errcode === 'number' ? { errcode: e.errcode } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.port === 'number' ? { port: e.port } : {}),
  };
};

const rebuild = (c: CarriedError): Error => {
  const Kind = c.name === 'TypeError' ? TypeError : c.name === 'RangeError' ? RangeError : Error;
  const { name, message, ...rest } = c;
  const err = new Kind(message);
  if (name !== err.name) err.name = name;
  return Object.assign(err, rest);
};

/** What became of one call, on the thread's side. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A message from the thread that answers no call (the log's new ends), to every caller. */
interface Notice {
  notice: unknown;
}

/** Sent to the thread to add a caller: another thread of the process, on a port of its own. */
interface Connect {
  connect: MessagePort;
}

/**
 * The thread's side, a batch at a time: every call that arrived (from any caller) while the
 * previous batch was being answered is handed to `answerAll` together, in arrival order, so a
 * thread can make one commit for all of them. `answerAll` gives one outcome per call, in the same
 * order. It returns the function that sends a notice to every caller.
 */
export function answerCallBatches(answerAll: (calls: { op: string; arg: unknown }[]) => Outcome[] | Promise<Outcome[]>): (notice: unknown) => void {
  const parent = parentPort;
  if (!parent) throw new Error('answerCalls runs inside a worker thread');
  const callers: (MessagePort)[] = [parent];
  const queue: { call: Call; from: MessagePort }[] = [];
  let scheduled = false;
  const drain = async () => {
    const batch = queue.splice(0);
    let outcomes: Outcome[];
    try {
      outcomes = await answerAll(batch.map((b) => b.call));
    } catch (err) {
      outcomes = batch.map(() => ({ ok: false, error: err }));
    }
    batch.forEach(({ call, from }, i) => {
      const o = outcomes[i] ?? { ok: false, error: new Error('no answer') };
      from.postMessage((o.ok ? { id: call.id, ok: true, value: o.value } : { id: call.id, ok: false, error: carry(o.error) }) satisfies Answer);
    });
    scheduled = queue.length > 0;
    if (scheduled) setImmediate(() => void drain());
  };
  const listen = (from: MessagePort) =>
    from.on('message', (m: Call | Connect) => {
      if ('connect' in m) {
        callers.push(m.connect);
        listen(m.connect);
        return;
      }
      queue.push({ call: m, from });
      // After the messages already waiting on the ports: they join this batch.
      if (!scheduled) setImmediate(() => void drain());
      scheduled = true;
    });
  listen(parent);
  return (notice) => {
    for (const c of callers) c.postMessage({ notice } satisfies Notice);
  };
}

/** The thread's side, one call at a time: each call's handler (awaited), in arrival order. Returns the notice sender. */
export function answerCalls(handlers: Handlers): (notice: unknown) => void {
  return answerCallBatches(async (calls) => {
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

/**
 * The caller's side of one worker thread: either the thread running `script` (which calls
 * `answerCalls`), started at the first call, or — from another thread of the process — a port
 * that `connect()` of the thread's owner gave.
 */
export class ThreadCalls<H extends Handlers> {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private portClosed = false;
  private readonly target: { script: URL; workerData: unknown; transferList?: MessagePort[] } | { port: MessagePort };
  private readonly onNotice: (notice: unknown) => void;
  private readonly onStopped: (why: string) => void;

  /** `onStopped`: the thread stopped by itself (an uncaught error, an exit), not by `close()`. */
  constructor(target: { script: URL; workerData: unknown; transferList?: MessagePort[] } | { port: MessagePort }, onNotice: (notice: unknown) => void = () => undefined, onStopped: (why: string) => void = () => undefined) {
    this.target = target;
    this.onNotice = onNotice;
    this.onStopped = onStopped;
  }

  call<K extends keyof H & string>(op: K, arg: Parameters<H[K]>[0]): Promise<Awaited<ReturnType<H[K]>>> {
    const channel = this.started();
    if (this.portClosed) return Promise.reject(new Error('the thread behind this port stopped'));
    const id = this.nextId++;
    const answered = new Promise<Awaited<ReturnType<H[K]>>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.size === 1) channel.ref();
      channel.postMessage({ id, op, arg } satisfies Call);
    });
    this.inflight.add(answered);
    const forget = () => this.inflight.delete(answered);
    answered.then(forget, forget);
    return answered;
  }

  /** A port another thread of this process can call the same thread on (`new ThreadCalls({ port })`). */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.started().postMessage({ connect: port2 } satisfies Connect, [port2]);
    return port1;
  }

  /** Waits for pending calls, then stops the thread (or lets go of the port). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    const { worker, port } = this;
    this.worker = undefined;
    this.port = undefined;
    port?.close();
    await worker?.terminate();
  }

  private settle(id: number, fn: (p: { resolve: (v: unknown) => void; reject: (e: Error) => void }) => void) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) (this.worker ?? this.port)?.unref();
    fn(p);
  }

  private readonly received = (m: Answer | Notice) => {
    if ('notice' in m) return this.onNotice(m.notice);
    this.settle(m.id, (p) => (m.ok ? p.resolve(m.value) : p.reject(rebuild(m.error))));
  };

  private started(): Worker | MessagePort {
    if (this.worker) return this.worker;
    if (this.port) return this.port;
    if ('port' in this.target) {
      const port = (this.port = this.target.port);
      port.on('message', this.received);
      // The thread behind the port stopped: nothing pending will be answered, nor anything later.
      port.on('close', () => {
        this.portClosed = true;
        for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(new Error('the thread behind this port stopped')));
      });
      port.unref();
      return port;
    }
    const { script } = this.target;
    const worker = new Worker(script, { workerData: this.target.workerData, transferList: this.target.transferList ?? [] });
    worker.unref();
    worker.on('message', this.received);
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(new Error(`worker thread ${script.pathname} stopped: ${why}`)));
      this.onStopped(why);
    };
    worker.on('error', (err: Error) => died(err.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}
