/**
 * Runs the pipeline's services as their own processes (`services/run.ts NAME`, exactly what
 * `npm run service -- NAME` runs) and waits until each answers `/readyz`. Used by `npm run bench`,
 * which measures the pipeline as production runs it: one process per service on Kafka and InfluxDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { sleep } from '#shared/time.ts';
import type { StageDefinition } from '#shared/stages/stage.ts';
import { CATALOGUE } from '../services/catalogue.ts';

/** The stages every reading passes through, from the catalogue (downstream first). */
/**
 * Gateway settings every system under benchmark runs with. The load generator's devices all connect
 * at once from one address, and each publishes far faster than a meter does. At the defaults (64
 * waiting logins per address, 50 publishes a second per device) the gateway's protections, not its
 * capacity, would set the figures; Mosquitto has neither.
 */
export const BENCH_GATEWAY_ENV = { LOGIN_QUEUE: '10000', DEVICE_RATE_LIMIT: '100000', DEVICE_RATE_BURST: '100000' };

export const pipelineServices = (stages: readonly StageDefinition[] = CATALOGUE) => stages.filter((s) => s.carriesReadings).map((s) => s.name);
export const PIPELINE_SERVICES = pipelineServices();
export type PipelineService = string;

export interface LaunchOptions {
  /** Environment every service gets. */
  env: Record<string, string>;
  /** Ops port of each service (its /readyz is polled there). */
  opsPorts: Record<PipelineService, string | undefined>;
  /** Extra environment per service (e.g. its consumer group). */
  envFor?: (name: PipelineService) => Record<string, string>;
  /** Where a service's output goes: a stream of its own, or stderr only (stdout dropped). */
  output?: (name: PipelineService) => Writable | 'stderr';
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** Told when a service exits on its own (not through `stop`). */
  onExit?: (name: PipelineService, code: number | null) => void;
}

export interface LaunchedServices {
  children: Map<PipelineService, ChildProcess>;
  /** SIGTERM (each drains), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Stops one service (SIGTERM: it drains) and starts it again, resolving once it is ready; returns when it was down. */
  restart(name: PipelineService): Promise<{ stoppedAt: number; readyAt: number }>;
}

const ready = async (port: string | undefined) => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true;

export async function launchServices(o: LaunchOptions): Promise<LaunchedServices> {
  const children = new Map<PipelineService, ChildProcess>();
  let stopping = false;
  const restarting = new Set<PipelineService>();
  const spawnService = (name: PipelineService) => {
    const out = o.output?.(name) ?? 'stderr';
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), 'services/run.ts', name], {
      env: { ...process.env, ...o.env, OPS_PORT: o.opsPorts[name], ...o.envFor?.(name) },
      stdio: ['ignore', out === 'stderr' ? 'ignore' : 'pipe', out === 'stderr' ? 'inherit' : 'pipe'],
    });
    if (out !== 'stderr') {
      child.stdout!.pipe(out);
      child.stderr!.pipe(out);
    }
    child.once('exit', (code) => {
      if (!stopping && !restarting.has(name)) o.onExit?.(name, code);
    });
    children.set(name, child);
  };
  for (const name of PIPELINE_SERVICES) spawnService(name);
  const stop = async (graceMs = 20_000) => {
    stopping = true;
    const running = [...children.values()].filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of running) c.kill('SIGTERM');
    const exited = Promise.all(running.map((c) => new Promise((r) => c.once('exit', r))));
    await Promise.race([exited, sleep(graceMs)]);
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    const states = await Promise.all(PIPELINE_SERVICES.map((n) => ready(o.opsPorts[n])));
    if (states.every(Boolean)) break;
    if (Date.now() > deadline) {
      await stop(2000);
      throw new Error(`not ready in time: ${PIPELINE_SERVICES.filter((_, i) => !states[i]).join(', ')}`);
    }
    await sleep(500);
  }
  const restart = async (name: PipelineService) => {
    const old = children.get(name)!;
    restarting.add(name);
    const exited = new Promise((r) => old.once('exit', r));
    old.kill('SIGTERM');
    await exited;
    const stoppedAt = Date.now();
    spawnService(name);
    restarting.delete(name);
    while (!(await ready(o.opsPorts[name]))) await sleep(100);
    return { stoppedAt, readyAt: Date.now() };
  };
  return { children, stop, restart };
}
