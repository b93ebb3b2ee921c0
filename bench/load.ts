/** What both benchmarks share: the simulated load, waiting for it to be stored, CPU from /proc. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation, simulationDefaults, type Progress, type SimulationSummary } from '../simulators/runner.ts';
import { sleep } from '#shared/time.ts';

export interface Load {
  devices: number;
  rate: number;
  batch: number;
  duration: number;
}

/** CPU seconds (user + system) a process (or, given `thread`, one of its threads) has used, from /proc (clock ticks of 1/100 s). */
export function procCpuSeconds(pid: number, thread?: number): number {
  const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Publishes the load over MQTT (QoS 1, fixed seed); `onPublishing` runs at each progress tick, first when publishing starts. */
export function publishLoad(o: Load, mqttUrl: string, dataDir: string, onPublishing: (p: Progress) => void): Promise<SimulationSummary> {
  return runSimulation({
    ...simulationDefaults(),
    mqttUrl,
    devices: o.devices,
    rate: o.rate,
    batch: o.batch,
    durationMs: o.duration * 1000,
    seed: 99,
    registryPath: join(dataDir, 'devices.json'),
    secretsPath: join(dataDir, 'sim-secrets.json'),
    groundTruthPath: join(dataDir, 'truth.jsonl'),
    maxInflight: 50_000,
    // A thousand first logins (an scrypt check each) outlast one 10 s connect timeout; devices retry.
    connectRetryMs: 120_000,
    recordAckWaits: true,
    onProgress: onPublishing,
  });
}


/** Polls the stored count until it reaches `target` (or stops moving for two minutes); returns when the last point landed. */
export async function waitStored(written: () => Promise<number>, target: number): Promise<number> {
  let landedAt = Date.now();
  for (let last = -1, i = 0; i < 600; i++) {
    const n = await written();
    if (n !== last) landedAt = Date.now();
    if (n >= target) break;
    last = n;
    await sleep(200);
  }
  return landedAt;
}
