/** Waiting, defined once: a promise that resolves after `ms` (optionally cut short by a signal). */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Exponential backoff: 200 ms, 400 ms, … up to `maxMs`. */
export const backoffMs = (attempt: number, maxMs: number, firstMs = 200) => Math.min(maxMs, firstMs * 2 ** Math.min(attempt - 1, 20));
