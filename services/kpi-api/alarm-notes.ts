/**
 * What operators add to alarms: an acknowledgement (who, when) and comments. Kept by the KPI API
 * in a small JSON file beside its keys (`DATA_DIR/alarm-notes.json`, updated under a lock by
 * atomic rename), not in the store: the API reads telemetry and alarms but writes none of them,
 * so its store token stays read-only. An alarm is `acknowledged` while it is open and
 * acknowledged; clearing ends it whatever the notes say.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { withLock, writeJsonAtomic } from '../../shared/registry/locked-file.ts';
import { identSchema } from '../../shared/schemas/topics.ts';
import { stateOf, type AlarmRecord } from '../../shared/store/alarms.ts';

/** Comments kept per alarm, and the longest comment: an operator's notes, bounded. */
export const MAX_COMMENTS = 100;
export const MAX_COMMENT_CHARS = 1000;

const commentSchema = z.object({ at: z.string(), by: z.string(), text: z.string().max(MAX_COMMENT_CHARS) });
const noteSchema = z.object({ municipality: identSchema, acknowledgedAt: z.string().optional(), acknowledgedBy: z.string().optional(), comments: z.array(commentSchema).max(MAX_COMMENTS) });
const notesFileSchema = z.object({ version: z.literal(1), alarms: z.record(z.string(), noteSchema) });
export type AlarmNote = z.infer<typeof noteSchema>;
type NotesFile = z.infer<typeof notesFileSchema>;

export const defaultAlarmNotesPath = (dataDir: string) => join(dataDir, 'alarm-notes.json');

export type ListedState = 'raised' | 'acknowledged' | 'cleared';

export class AlarmNotes {
  readonly path: string;
  private cache: { signature: string; file: NotesFile } | undefined;

  constructor(path: string) {
    this.path = path;
  }

  get(alarmId: string): AlarmNote | undefined {
    return this.read().alarms[alarmId];
  }

  /** Acknowledges an alarm (the first acknowledgement is kept), with an optional comment. */
  acknowledge(municipality: string, alarmId: string, by: string, at: Date, comment?: string): AlarmNote {
    return this.update(municipality, alarmId, (n) => {
      n.acknowledgedAt ??= at.toISOString();
      n.acknowledgedBy ??= by;
      if (comment) addComment(n, { at: at.toISOString(), by, text: comment });
    });
  }

  comment(municipality: string, alarmId: string, by: string, at: Date, text: string): AlarmNote {
    return this.update(municipality, alarmId, (n) => addComment(n, { at: at.toISOString(), by, text }));
  }

  /** Drops an alarm's notes (an erasure request); whether it had any. */
  forget(alarmId: string): boolean {
    let had = false;
    withLock(this.path, () => {
      const file = this.load();
      had = alarmId in file.alarms;
      if (!had) return;
      delete file.alarms[alarmId];
      writeJsonAtomic(this.path, file);
    });
    this.cache = undefined;
    return had;
  }

  private update(municipality: string, alarmId: string, change: (n: AlarmNote) => void): AlarmNote {
    let out: AlarmNote | undefined;
    withLock(this.path, () => {
      const file = this.load();
      const note = file.alarms[alarmId] ?? { municipality, comments: [] };
      change(note);
      file.alarms[alarmId] = note;
      writeJsonAtomic(this.path, file);
      out = note;
    });
    this.cache = undefined;
    return out!;
  }

  /** The file, read again only when it changed. */
  private read(): NotesFile {
    const signature = existsSync(this.path) ? `${statSync(this.path).mtimeMs}:${statSync(this.path).size}` : 'none';
    if (this.cache?.signature !== signature) this.cache = { signature, file: this.load() };
    return this.cache.file;
  }

  private load(): NotesFile {
    if (!existsSync(this.path)) return { version: 1, alarms: {} };
    return notesFileSchema.parse(JSON.parse(readFileSync(this.path, 'utf8')));
  }
}

/** Adds a comment; beyond MAX_COMMENTS the oldest go (the acknowledgement stays). */
function addComment(n: AlarmNote, c: AlarmNote['comments'][number]): void {
  n.comments = [...n.comments, c].slice(-MAX_COMMENTS);
}

/** Alarms with their notes, in a state when given: the open ones (raised, then acknowledged) first, each group newest first. */
export function listAlarms(alarms: readonly AlarmRecord[], notes: AlarmNotes, state?: ListedState) {
  const order: Record<ListedState, number> = { raised: 0, acknowledged: 1, cleared: 2 };
  return alarms
    .map((a) => listed(a, notes.get(a.alarmId)))
    .filter((a) => state === undefined || a.state === state)
    .sort((a, b) => order[a.state] - order[b.state] || b.raisedAt - a.raisedAt);
}

/** An alarm as listed: its state with the acknowledgement taken into account, and its notes. */
export function listed(a: AlarmRecord, note: AlarmNote | undefined): AlarmRecord & { state: ListedState; note: AlarmNote | undefined } {
  const own = note?.municipality === a.municipality ? note : undefined;
  const stored = stateOf(a);
  const state: ListedState = stored === 'raised' && own?.acknowledgedAt ? 'acknowledged' : stored;
  return { ...a, state, note: own };
}
