/**
 * A thread that may yield the CPU to the rest of its process. On Linux a nice value belongs to a
 * thread, not to the process (setpriority(2), "Linux/NPTL"), and threads it starts inherit it: so
 * one thread of `npm start` can do its catching-up work at a low priority while the thread that
 * acknowledges devices keeps the normal one. Elsewhere `setpriority` would lower the whole
 * process, so nothing is changed there.
 */
import { getPriority, setPriority } from 'node:os';

/** Sets the calling thread's nice value (0–19, higher yields more). Says what happened, for the log. */
export function niceThisThread(nice: number): string {
  if (process.platform !== 'linux') return `left at its priority (a thread's own nice value needs Linux; this is ${process.platform})`;
  try {
    setPriority(0, nice);
    return `at nice ${getPriority(0)}`;
  } catch (err) {
    // Lowering needs no privilege; only going back up (below an inherited nice) does.
    return `left at nice ${getPriority(0)} (${(err as Error).message})`;
  }
}
