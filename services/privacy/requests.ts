/**
 * A data subject's requests about one device (GDPR articles 15 and 17): everything the platform
 * holds about it — its registry entry (never its secret's hash), raw readings, aggregate windows,
 * alarms with the operators' notes, dead letters — gathered for an access request, and deleted
 * from every store for an erasure request, saying what was removed. Both are appended to an audit
 * (`DATA_DIR/privacy-requests.jsonl`). Engine-neutral: the store and the bus are interfaces.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Bus } from '../../shared/bus/bus.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { VOCABULARY } from '../../shared/schemas/kinds.ts';
import { KINDS, type Kind } from '../../shared/schemas/topics.ts';
import { alarmOf, type AlarmRecord } from '../../shared/store/alarms.ts';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import type { AlarmNote, AlarmNotes } from '../kpi-api/alarm-notes.ts';

export interface RequestDeps {
  store: TelemetryStore;
  bus: Bus;
  deadLetterTopic: string;
  registry: DeviceRegistry;
  notes: AlarmNotes;
  /** The append-only audit of requests. */
  auditPath: string;
  now?: () => number;
}

export interface DeviceData {
  device: string;
  /** The registry entry, without its secret's hash; null when there is none. */
  registry: Record<string, unknown> | null;
  raw: StorePoint[];
  aggregates: StorePoint[];
  alarms: (AlarmRecord & { notes: AlarmNote | null })[];
  deadLetters: unknown[];
}

export interface Counts {
  raw: number;
  aggregates: number;
  alarms: number;
  deadLetters: number;
  registry: number;
}

export const countsOf = (d: DeviceData): Counts => ({ raw: d.raw.length, aggregates: d.aggregates.length, alarms: d.alarms.length, deadLetters: d.deadLetters.length, registry: d.registry ? 1 : 0 });

const FAR = 366 * 86_400_000;

/** Everything held about the device. */
export async function collect(deps: RequestDeps, device: string): Promise<DeviceData> {
  const now = (deps.now ?? Date.now)();
  const entry = deps.registry.list().find((d) => d.id === device);
  // Its kind from the registry; every kind when it has no entry any more.
  const kinds: Kind[] = entry ? [entry.kind] : [...KINDS];
  const raw: StorePoint[] = [];
  const aggregates: StorePoint[] = [];
  for (const kind of kinds) {
    raw.push(...(await deps.store.devicePoints(VOCABULARY[kind].raw, device, 0, now + FAR)));
    aggregates.push(...(await deps.store.devicePoints(VOCABULARY[kind].aggregate, device, 0, now + FAR)));
  }
  const alarms = (await deps.store.alarmPoints({ subject: device, from: 0, to: now + FAR })).map(alarmOf).filter((a): a is AlarmRecord => a !== undefined);
  const deadLetters = (await deps.bus.recordsWithKey(deps.deadLetterTopic, device)).map((v) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  });
  let registry: Record<string, unknown> | null = null;
  if (entry) {
    const { secretHash: _hidden, ...rest } = entry;
    registry = rest;
  }
  return { device, registry, raw, aggregates, alarms: alarms.map((a) => ({ ...a, notes: deps.notes.get(a.alarmId) ?? null })), deadLetters };
}

export interface Erasure {
  removed: Counts;
  /** What a second look still finds (nothing, unless the device sent more meanwhile). */
  remaining: Counts;
}

/** Deletes everything held about the device, and says what was removed and what remains. */
export async function erase(deps: RequestDeps, device: string, by: string): Promise<Erasure> {
  const held = await collect(deps, device);
  const before = countsOf(held);
  const alarmIds = held.alarms.map((a) => a.alarmId);
  await deps.store.deleteDevice(device);
  for (const id of alarmIds) deps.notes.forget(id);
  const deleted = await deps.bus.deleteKey(deps.deadLetterTopic, device);
  if (before.registry) await deps.registry.remove(device);
  const remaining = countsOf(await collect(deps, device));
  const removed: Counts = { raw: before.raw - remaining.raw, aggregates: before.aggregates - remaining.aggregates, alarms: before.alarms - remaining.alarms, deadLetters: deleted, registry: before.registry - remaining.registry };
  const out = { removed, remaining };
  audit(deps, { action: 'erase', device, by, removed, remaining });
  return out;
}

/** Appends a request to the audit (one JSON line: when, what, which device, who, how much). */
export function audit(deps: Pick<RequestDeps, 'auditPath' | 'now'>, entry: { action: 'export' | 'erase'; device: string; by: string } & Record<string, unknown>): void {
  mkdirSync(dirname(deps.auditPath), { recursive: true });
  appendFileSync(deps.auditPath, `${JSON.stringify({ at: new Date((deps.now ?? Date.now)()).toISOString(), ...entry })}\n`, { mode: 0o600 });
}
