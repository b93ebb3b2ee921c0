/** Services and `npm start` as their own processes, for tests that kill them; resolves once their output says they are up. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';

export interface Spawned {
  child: ChildProcess;
  log: () => string;
}

/**
 * `node <args>` (Node.js runs the TypeScript itself) with `env`; resolves when `isUp(output)`, rejects if it exits or takes over a minute.
 * `fileLimit` starts it with that many open files at most (soft and hard, so it cannot raise them), through util-linux's prlimit.
 */
export async function spawnScript(what: string, args: string[], env: Record<string, string>, isUp: (log: string) => boolean, unset: string[] = [], opts: { fileLimit?: number } = {}): Promise<Spawned> {
  // HTTP ingest takes any free port unless the test names one (tests run side by side).
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HTTP_INGEST_PORT: '0', ...env };
  for (const k of unset) delete childEnv[k];
  const [command, argv] = opts.fileLimit ? ['prlimit', [`--nofile=${opts.fileLimit}:${opts.fileLimit}`, '--', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(command, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${log}`)), 60_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (isUp(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${log}`)));
  });
  return { child, log: () => log };
}

/** One service (`services/run.ts NAME`). */
export function spawnService(name: string, env: Record<string, string>, isUp: (log: string) => boolean, opts: { fileLimit?: number } = {}): Promise<Spawned> {
  return spawnScript(name, ['services/run.ts', name], { LOG_LEVEL: 'info', OPS_PORT: '0', ...env }, isUp, [], opts);
}

/** The processes a test suite starts, killed with SIGKILL after it, whatever happened: push each one here. */
export function killedAfterAll(): ChildProcess[] {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });
  return children;
}
