/**
 * Node.js flags a service needs from its first instruction on. V8 sizes its heap when the process
 * starts: `v8.setFlagsFromString` later changes nothing there. So a service whose definition asks
 * for flags it was not started with starts itself again with them, in the same process
 * (execve(2): the same pid, the same standard streams, signals and `kill -9` reach it as before),
 * however it was launched — `npm run service`, a container, the benchmark, a test.
 */

/** `--max_semi_space_size=16` and `--max-semi-space-size=16` are the same flag to Node. */
const flagName = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-');

/**
 * The flags of `wanted` that the process was not started with. A flag the operator already set
 * (on the command line or in NODE_OPTIONS), with any value, is theirs and is left as it is.
 */
export function missingNodeFlags(wanted: readonly string[], execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)].map(flagName));
  return wanted.filter((f) => !given.has(flagName(f)));
}

/**
 * Returns when the process has every flag of `wanted` (or cannot restart itself: then it says why,
 * for the log, and the service runs with V8's defaults); otherwise the process is replaced, and
 * the call does not return.
 */
export function restartWithNodeFlags(wanted: readonly string[]): string | undefined {
  const missing = missingNodeFlags(wanted, process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length === 0) return undefined;
  // `process.execve` is in Node.js 22.15 and later, on POSIX systems.
  if (typeof process.execve !== 'function') return `started without ${missing.join(' ')} (this Node.js cannot restart a process in place)`;
  try {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], process.env);
  } catch (err) {
    return `started without ${missing.join(' ')} (${(err as Error).message})`;
  }
}
