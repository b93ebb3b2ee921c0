/** Reading the simulator's ground truth and matching it against records in telemetry.raw. */
import { readFileSync } from 'node:fs';
import type { GroundTruthLine } from '../../simulators/runner.ts';
import { rawEnvelopeSchema, decodePayload } from '../../shared/schemas/envelope.ts';
import type { ReadRecord } from './kafka-read.ts';

export function readGroundTruth(path: string): GroundTruthLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as GroundTruthLine);
}

/** `deviceId@ts` of each native reading inside each raw record, in topic order. */
export function readingKeys(records: ReadRecord[]): string[] {
  return records.flatMap((r) => {
    const env = rawEnvelopeSchema.parse(JSON.parse(r.value));
    const body = JSON.parse(decodePayload(env).toString('utf8')) as { ts: number } | { ts: number }[];
    return (Array.isArray(body) ? body : [body]).map((b) => `${env.deviceId}@${b.ts}`);
  });
}

export const countBy = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
