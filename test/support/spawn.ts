/** A service as its own process (`services/run.ts NAME`), for tests that kill it; resolves once its log says it is up. */
import { spawn, type ChildProcess } from 'node:child_process';

export async function spawnService(name: string, env: Record<string, string>, isUp: (log: string) => boolean): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/run.ts', name], {
    env: { ...process.env, LOG_LEVEL: 'info', OPS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log}`)), 30_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (isUp(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${log}`)));
  });
  return { child, log: () => log };
}
