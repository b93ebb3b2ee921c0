/**
 * The process's limit of open files, which every socket, log, store and spool file shares. At
 * start a service raises its soft limit to the hard one (always allowed, also unprivileged) and
 * sizes its connection budgets below what it then has, keeping `reserve` descriptors for its own
 * files and outgoing connections (Kafka, InfluxDB, the embedded log and store, the spool, logs).
 * Node.js has no setrlimit; util-linux's `prlimit` on our own pid does it, where it exists.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface FileLimit {
  soft: number;
  hard: number;
}

/** Parses the "Max open files" line of /proc/<pid>/limits; undefined when it is not there. */
export function parseFileLimit(limitsText: string): FileLimit | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limitsText);
  if (!m) return undefined;
  const n = (s: string) => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

export function openFileLimit(): FileLimit | undefined {
  try {
    return parseFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined; // not Linux: the budgets fall back to their configured values
  }
}

/** Raises the soft limit to the hard one when it is lower; the limit in force afterwards. */
export function raiseOpenFileLimit(): FileLimit | undefined {
  const before = openFileLimit();
  if (!before || before.soft >= before.hard || before.hard === Number.MAX_SAFE_INTEGER) return before;
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${before.hard}:${before.hard}`], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // No prlimit here: keep the soft limit and size the budget by it.
  }
  return openFileLimit();
}

/** Connections a service may hold: the configured cap (0 = as many as the limit allows), below the limit less `reserve`. */
export function connectionCap(configured: number, limit: FileLimit | undefined, reserve: number): number {
  const byLimit = limit ? Math.max(16, limit.soft - reserve) : Number.MAX_SAFE_INTEGER;
  const cap = configured > 0 ? Math.min(configured, byLimit) : byLimit;
  return cap === Number.MAX_SAFE_INTEGER ? 10_000 : cap;
}
