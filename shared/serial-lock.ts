/** Runs functions one after another (work that must not interleave: a partition's batches and its idle closes); a failure does not block the next. */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<unknown> {
    return this.tail;
  }
}
