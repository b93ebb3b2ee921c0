/**
 * Stages that may yield the CPU to what devices talk to. On Linux a nice value belongs to a
 * thread, not to the process (setpriority(2), "Linux/NPTL"), and threads it starts inherit it: so
 * one thread of `npm start` can do its catching-up work at a low priority while the thread that
 * acknowledges devices keeps the normal one; a stage run as its own process lowers every thread
 * it has (V8's collector threads are started before any code of ours runs). Elsewhere
 * `setpriority` would lower the whole process, so nothing is changed there.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { int } from './config.ts';

/**
 * `STAGES_NICE`, defined once for `npm start` (its stages' thread) and for each stage service (its
 * process). A stage that only works through the log can be behind for a while and lose nothing;
 * a device waiting for its PUBACK cannot. On a machine of its own the value changes nothing. The
 * default is the caller's: measured, `npm start` is best at 19 and the services at 10
 * (docs/benchmarks.md).
 */
export const stagesNiceSetting = (defaultNice: number) =>
  int(defaultNice, 0, 19).describe(
    "nice value of the stages that work through the log — the normaliser, writer, aggregator, alarms… (Linux; `npm start`: their thread, a service: its process): above 0, a machine they share with a gateway serves devices' PUBACKs and the API first, and the stages work through the log with the CPU left over",
  );

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

/** Sets the nice value of every thread of this process (and so of those it starts later). Says what happened, for the log. */
export function niceThisProcess(nice: number): string {
  if (process.platform !== 'linux') return niceThisThread(nice);
  const failed: string[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      setPriority(Number(tid), nice);
    } catch (err) {
      // A thread may have ended since the listing; any other refusal is reported.
      if ((err as { info?: { code?: string } }).info?.code !== 'ESRCH') failed.push(`thread ${tid}: ${(err as Error).message}`);
    }
  }
  return failed.length === 0 ? `at nice ${getPriority(0)}, every thread` : `at nice ${getPriority(0)}; ${failed.join('; ')}`;
}
