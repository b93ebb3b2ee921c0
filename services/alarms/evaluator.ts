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
  /** When its condition began: where the alarm's point is kept. */
  raisedAt: number;
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

/** A bay's last state, and where it was read. */
interface BayState {
  occupied: boolean;
  ts: number;
  at: Position | undefined;
}
/** A zone's bays, by device. */
type Zone = Map<string, BayState>;

/** Where a reading sits on the bus: a pending condition holds the commit back to where it began. */
export interface Position {
  partition: number;
  offset: number;
}

/** An open alarm: its id and when its condition began (the time its point is kept at). */
interface Open {
  id: string;
  raisedAt: number;
}

interface Track {
  /** Event time since which the condition holds; undefined while it does not. */
  since: number | undefined;
  /**
   * While the condition is pending (holds, not yet raised): the records a replay needs to find it
   * again — the one it began at and, for a zone, the ones its bays' states then came from.
   */
  holding: Position[];
  /** The newest event time applied: an older reading is behind the track and changes nothing. */
  lastTs: number;
  open: Open | undefined;
  evidence: Evidence[];
}

export const alarmIdOf = (municipality: string, ruleId: string, subject: string, since: number) =>
  createHash('sha256').update(`${municipality}\n${ruleId}\n${subject}\n${since}`).digest('hex').slice(0, 24);

export class AlarmEvaluator {
  private readonly tracks = new Map<string, Track>();
  /** Per silence rule and device: the last receive time, and the open alarm. */
  private readonly silence = new Map<string, { municipality: string; kind: string; deviceId: string; rule: AlarmRule; lastReceived: number; open: Open | undefined }>();
  /** Per zone: each bay's last state. */
  private readonly zones = new Map<string, Zone>();

  private readonly rulesFor: (municipality: string) => readonly AlarmRule[];

  constructor(rulesFor: (municipality: string) => readonly AlarmRule[]) {
    this.rulesFor = rulesFor;
  }

  /**
   * Applies one reading (`at`: where it was read); the transitions it causes, in order.
   */
  observe(r: CanonicalReading, at?: Position): Transition[] {
    const out: Transition[] = [];
    for (const rule of this.rulesFor(r.municipality)) {
      if (rule.kind !== r.kind || !appliesTo(rule, r.attrs)) continue;
      if (rule.type === 'silence') out.push(...this.heard(rule, r));
      else if (rule.type === 'occupancy') {
        const zone = typeof r.attrs.lot === 'string' ? r.attrs.lot : undefined;
        if (zone && r.kind === 'parking') {
          const pct = this.zonePct(r.municipality, zone, r, rule.minBays, at);
          const bays = () => [...this.zones.get(`${r.municipality}\n${zone}`)!.values()].flatMap((b) => (b.at ? [b.at] : []));
          if (pct !== undefined) out.push(...this.step(rule, r, zone, pct > rule.abovePct, rule.forMinutes, at, bays));
        }
      } else {
        const h = holds(rule, r);
        if (h !== undefined) out.push(...this.step(rule, r, r.deviceId, h, rule.forMinutes, at));
      }
    }
    return out;
  }

  /** Silence alarms due at `now` (wall clock, ms): devices not heard from within their rule's minutes. */
  tick(now: number): Transition[] {
    const out: Transition[] = [];
    for (const s of this.silence.values()) {
      if (s.open || s.rule.type !== 'silence' || now - s.lastReceived < s.rule.minutes * 60_000) continue;
      s.open = { id: alarmIdOf(s.municipality, s.rule.id, s.deviceId, s.lastReceived), raisedAt: s.lastReceived };
      out.push({ alarmId: s.open.id, raisedAt: s.open.raisedAt, state: 'raised', municipality: s.municipality, ruleId: s.rule.id, type: 'silence', kind: s.kind, subject: s.deviceId, severity: s.rule.severity, at: s.lastReceived, evidence: [] });
    }
    return out;
  }

  /**
   * The first record of the partition a pending condition began at: a restart must replay from
   * there to raise it with the same id. Undefined when nothing is pending there.
   */
  pendingFrom(partition: number): number | undefined {
    let min: number | undefined;
    for (const t of this.tracks.values()) {
      if (t.open !== undefined) continue;
      for (const h of t.holding) if (h.partition === partition && (min === undefined || h.offset < min)) min = h.offset;
    }
    return min;
  }

  /**
   * An alarm open in the store, taken back after a restart: its track is open, and readings up to
   * `lastTs` (the newest that raised it) — replayed ones — are behind it. Silence: heard at its raise.
   */
  restore(a: { alarmId: string; municipality: string; ruleId: string; subject: string; kind: string; raisedAt: number; lastTs: number }): void {
    const rule = this.rulesFor(a.municipality).find((r) => r.id === a.ruleId);
    if (!rule) return; // the rule is gone: nothing would clear it here
    if (rule.type === 'silence') {
      this.silence.set(`${a.municipality}\n${rule.id}\n${a.subject}`, { municipality: a.municipality, kind: a.kind, deviceId: a.subject, rule, lastReceived: a.raisedAt, open: { id: a.alarmId, raisedAt: a.raisedAt } });
      return;
    }
    const key = `${a.municipality}\n${rule.id}\n${a.subject}`;
    const t = this.tracks.get(key);
    if (t && t.lastTs >= a.lastTs) return; // already known from the readings
    this.tracks.set(key, { since: a.raisedAt, holding: [], lastTs: a.lastTs, open: { id: a.alarmId, raisedAt: a.raisedAt }, evidence: [] });
  }

  /** Starts the silence clock of a device not heard yet (a registered device, at the stage's start). */
  expect(municipality: string, kind: string, deviceId: string, since: number): void {
    for (const rule of this.rulesFor(municipality)) {
      if (rule.type !== 'silence' || rule.kind !== kind) continue;
      const key = `${municipality}\n${rule.id}\n${deviceId}`;
      if (!this.silence.has(key)) this.silence.set(key, { municipality, kind, deviceId, rule, lastReceived: since, open: undefined });
    }
  }

  /** Open alarms, by id: what the stage would have to clear or keep (tests and recovery checks). */
  openAlarms(): string[] {
    return [...[...this.tracks.values()].map((t) => t.open?.id), ...[...this.silence.values()].map((s) => s.open?.id)].filter((x): x is string => x !== undefined);
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
    return [{ alarmId: cleared.id, raisedAt: cleared.raisedAt, state: 'cleared', municipality: r.municipality, ruleId: rule.id, type: 'silence', kind: r.kind, subject: r.deviceId, severity: rule.severity, at: r.receivedAt, evidence: [] }];
  }

  /** A zone's occupancy in % of its sensed bays after this bay's reading; undefined below `minBays` bays heard. */
  private zonePct(municipality: string, zone: string, r: CanonicalReading & { kind: 'parking' }, minBays: number, at: Position | undefined): number | undefined {
    const key = `${municipality}\n${zone}`;
    const z: Zone = this.zones.get(key) ?? new Map<string, BayState>();
    this.zones.set(key, z);
    const prev = z.get(r.deviceId);
    if (!prev || prev.ts <= r.ts) z.set(r.deviceId, { occupied: r.values.occupied, ts: r.ts, at });
    if (z.size < minBays) return undefined;
    let occupied = 0;
    for (const b of z.values()) if (b.occupied) occupied++;
    return (100 * occupied) / z.size;
  }

  /** `state`: for a zone, where its bays' current states were read (a replay must read them again). */
  private step(rule: AlarmRule, r: CanonicalReading, subject: string, condition: boolean, forMinutes: number, at: Position | undefined, state?: () => Position[]): Transition[] {
    const key = `${r.municipality}\n${rule.id}\n${subject}`;
    const t: Track = this.tracks.get(key) ?? { since: undefined, holding: [], lastTs: -Infinity, open: undefined, evidence: [] };
    this.tracks.set(key, t);
    if (r.ts < t.lastTs) return []; // behind this track: the condition's course is already decided past it
    t.lastTs = r.ts;
    const base = { municipality: r.municipality, ruleId: rule.id, type: rule.type, kind: r.kind, subject, severity: rule.severity };
    if (!condition) {
      t.since = undefined;
      t.holding = [];
      t.evidence = [];
      if (!t.open) return [];
      const cleared = t.open;
      t.open = undefined;
      return [{ alarmId: cleared.id, raisedAt: cleared.raisedAt, state: 'cleared', ...base, at: r.ts, evidence: [] }];
    }
    if (t.since === undefined) {
      t.since = r.ts;
      t.holding = [...(at ? [at] : []), ...(state?.() ?? [])];
    }
    const seen: Evidence = { deviceId: r.deviceId, ts: r.ts, values: r.values };
    t.evidence = t.evidence.length < EVIDENCE_MAX ? [...t.evidence, seen] : [t.evidence[0]!, ...t.evidence.slice(2), seen];
    if (t.open || r.ts - t.since < forMinutes * 60_000) return [];
    t.open = { id: alarmIdOf(r.municipality, rule.id, subject, t.since), raisedAt: t.since };
    t.holding = [];
    return [{ alarmId: t.open.id, raisedAt: t.since, state: 'raised', ...base, at: t.since, evidence: t.evidence }];
  }
}
