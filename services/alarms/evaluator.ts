/**
 * The alarm rules applied to a stream of readings: one track per rule and subject (a device, or a
 * parking zone), each a small state machine — the condition holds since an event time; once it
 * has held for the rule's duration an alarm is raised; when it stops holding the alarm is cleared.
 * Pure and deterministic: the same readings give the same transitions with the same alarm ids
 * (derived from the rule, the subject and the time the condition began), so a replay after a crash
 * reproduces what was raised instead of raising it again.
 *
 * Silence is the one rule decided by the platform's clock: a device's last receive time at the
 * gateway, against the wall clock given to `tick` — a device's wrong clock cannot raise or hide it.
 */
import { createHash } from 'node:crypto';
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import { holds } from './conditions.ts';
import { appliesTo, type AlarmRule, type Severity } from './rules.ts';

/** Readings kept with an alarm: the ones that raised it (the first and the last few). */
export const EVIDENCE_MAX = 5;

export interface Evidence {
  deviceId: string;
  ts: number;
  values: Record<string, unknown>;
}

export interface Transition {
  alarmId: string;
  state: 'raised' | 'cleared';
  municipality: string;
  ruleId: string;
  type: AlarmRule['type'];
  kind: string;
  /** The device, or for a zone rule the zone (`lot`). */
  subject: string;
  severity: Severity;
  /** When the condition began (raised) or ended (cleared): event time, or receive time for silence. */
  at: number;
  /** For `raised`: the readings that raised it. */
  evidence: Evidence[];
}

interface Zone {
  bays: Map<string, { occupied: boolean; ts: number }>;
  capacity: number | undefined;
}

interface Track {
  /** Event time since which the condition holds; undefined while it does not. */
  since: number | undefined;
  /** The newest event time applied: an older reading is behind the track and changes nothing. */
  lastTs: number;
  open: string | undefined;
  evidence: Evidence[];
}

export const alarmIdOf = (municipality: string, ruleId: string, subject: string, since: number) =>
  createHash('sha256').update(`${municipality}\n${ruleId}\n${subject}\n${since}`).digest('hex').slice(0, 24);

export class AlarmEvaluator {
  private readonly tracks = new Map<string, Track>();
  /** Per silence rule and device: the last receive time, and the open alarm. */
  private readonly silence = new Map<string, { municipality: string; kind: string; deviceId: string; rule: AlarmRule; lastReceived: number; open: string | undefined }>();
  /** Per zone: each bay's last state and the zone's capacity. */
  private readonly zones = new Map<string, Zone>();

  private readonly rulesFor: (municipality: string) => readonly AlarmRule[];

  constructor(rulesFor: (municipality: string) => readonly AlarmRule[]) {
    this.rulesFor = rulesFor;
  }

  /** Applies one reading; the transitions it causes, in order. */
  observe(r: CanonicalReading): Transition[] {
    const out: Transition[] = [];
    for (const rule of this.rulesFor(r.municipality)) {
      if (rule.kind !== r.kind || !appliesTo(rule, r.attrs)) continue;
      if (rule.type === 'silence') out.push(...this.heard(rule, r));
      else if (rule.type === 'occupancy') {
        const zone = typeof r.attrs.lot === 'string' ? r.attrs.lot : undefined;
        if (zone && r.kind === 'parking') {
          const pct = this.zonePct(r.municipality, zone, r);
          if (pct !== undefined) out.push(...this.step(rule, r, zone, pct > rule.abovePct, rule.forMinutes));
        }
      } else {
        const h = holds(rule, r);
        if (h !== undefined) out.push(...this.step(rule, r, r.deviceId, h, rule.forMinutes));
      }
    }
    return out;
  }

  /** Silence alarms due at `now` (wall clock, ms): devices not heard from within their rule's minutes. */
  tick(now: number): Transition[] {
    const out: Transition[] = [];
    for (const s of this.silence.values()) {
      if (s.open || s.rule.type !== 'silence' || now - s.lastReceived < s.rule.minutes * 60_000) continue;
      s.open = alarmIdOf(s.municipality, s.rule.id, s.deviceId, s.lastReceived);
      out.push({ alarmId: s.open, state: 'raised', municipality: s.municipality, ruleId: s.rule.id, type: 'silence', kind: s.kind, subject: s.deviceId, severity: s.rule.severity, at: s.lastReceived, evidence: [] });
    }
    return out;
  }

  /** Open alarms, by id: what the stage would have to clear or keep (tests and recovery checks). */
  openAlarms(): string[] {
    return [...[...this.tracks.values()].map((t) => t.open), ...[...this.silence.values()].map((s) => s.open)].filter((x): x is string => x !== undefined);
  }

  private heard(rule: AlarmRule, r: CanonicalReading): Transition[] {
    const key = `${r.municipality}\n${rule.id}\n${r.deviceId}`;
    const s = this.silence.get(key) ?? { municipality: r.municipality, kind: r.kind, deviceId: r.deviceId, rule, lastReceived: r.receivedAt, open: undefined };
    this.silence.set(key, s);
    s.rule = rule;
    if (r.receivedAt < s.lastReceived) return [];
    s.lastReceived = r.receivedAt;
    if (!s.open) return [];
    const cleared = s.open;
    s.open = undefined;
    return [{ alarmId: cleared, state: 'cleared', municipality: r.municipality, ruleId: rule.id, type: 'silence', kind: r.kind, subject: r.deviceId, severity: rule.severity, at: r.receivedAt, evidence: [] }];
  }

  /** A zone's occupancy in % after this bay's reading; undefined without a capacity. */
  private zonePct(municipality: string, zone: string, r: CanonicalReading & { kind: 'parking' }): number | undefined {
    const key = `${municipality}\n${zone}`;
    const z: Zone = this.zones.get(key) ?? { bays: new Map(), capacity: undefined };
    this.zones.set(key, z);
    const prev = z.bays.get(r.deviceId);
    if (!prev || prev.ts <= r.ts) z.bays.set(r.deviceId, { occupied: r.values.occupied, ts: r.ts });
    if (typeof r.attrs.capacity === 'number' && r.attrs.capacity > 0) z.capacity = r.attrs.capacity;
    const capacity = z.capacity ?? z.bays.size;
    let occupied = 0;
    for (const b of z.bays.values()) if (b.occupied) occupied++;
    return capacity > 0 ? (100 * occupied) / capacity : undefined;
  }

  private step(rule: AlarmRule, r: CanonicalReading, subject: string, condition: boolean, forMinutes: number): Transition[] {
    const key = `${r.municipality}\n${rule.id}\n${subject}`;
    const t = this.tracks.get(key) ?? { since: undefined, lastTs: -Infinity, open: undefined, evidence: [] };
    this.tracks.set(key, t);
    if (r.ts < t.lastTs) return []; // behind this track: the condition's course is already decided past it
    t.lastTs = r.ts;
    const base = { municipality: r.municipality, ruleId: rule.id, type: rule.type, kind: r.kind, subject, severity: rule.severity };
    if (!condition) {
      t.since = undefined;
      t.evidence = [];
      if (!t.open) return [];
      const cleared = t.open;
      t.open = undefined;
      return [{ alarmId: cleared, state: 'cleared', ...base, at: r.ts, evidence: [] }];
    }
    t.since ??= r.ts;
    const seen: Evidence = { deviceId: r.deviceId, ts: r.ts, values: r.values };
    t.evidence = t.evidence.length < EVIDENCE_MAX ? [...t.evidence, seen] : [t.evidence[0]!, ...t.evidence.slice(2), seen];
    if (t.open || r.ts - t.since < forMinutes * 60_000) return [];
    t.open = alarmIdOf(r.municipality, rule.id, subject, t.since);
    return [{ alarmId: t.open, state: 'raised', ...base, at: t.since, evidence: t.evidence }];
  }
}
