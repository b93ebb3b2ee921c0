/** Checks that a build tool is on PATH and runs it, failing with one line that names what is missing. */
import { spawnSync } from 'node:child_process';
import { ERROR_CODES } from '#shared/errors.ts';

export class MissingToolError extends Error {
  override name = 'MissingToolError';
  readonly code = ERROR_CODES.MISSING_TOOL;
}

export function requireTool(tool: string, hint: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new MissingToolError(`missing tool: '${tool}' is not on PATH (${hint})`);
}

export function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; what: string }) {
  const res = spawnSync(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.split('\n').slice(-30).join('\n');
    throw new Error(`${opts.what} failed (exit ${res.status ?? res.signal}):\n${out}`);
  }
  return res.stdout;
}
