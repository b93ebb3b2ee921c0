import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlarmRecord } from '../../shared/store/alarms.ts';
import { AlarmNotes, MAX_COMMENTS, listAlarms } from './alarm-notes.ts';

const alarm = (alarmId: string, raisedAt: number, clearedAt?: number, municipality = 'kalamata'): AlarmRecord => ({ alarmId, municipality, subject: 'm-1', ruleId: 'r', type: 'threshold', kind: 'energy', severity: 'major', raisedAt, evidence: [], ...(clearedAt === undefined ? {} : { clearedAt }) });
const notesIn = () => new AlarmNotes(join(mkdtempSync(join(tmpdir(), 'notes-')), 'alarm-notes.json'));

describe('alarm notes', () => {
  it('keeps the first acknowledgement, adds comments, and survives a new reader', () => {
    const notes = notesIn();
    notes.acknowledge('kalamata', 'a1', 'key-1', new Date(1000), 'on it');
    notes.acknowledge('kalamata', 'a1', 'key-2', new Date(2000));
    notes.comment('kalamata', 'a1', 'key-2', new Date(3000), 'fixed');
    expect(new AlarmNotes(notes.path).get('a1')).toEqual({ municipality: 'kalamata', acknowledgedAt: new Date(1000).toISOString(), acknowledgedBy: 'key-1', comments: [{ at: new Date(1000).toISOString(), by: 'key-1', text: 'on it' }, { at: new Date(3000).toISOString(), by: 'key-2', text: 'fixed' }] });
  });

  it(`keeps the last ${MAX_COMMENTS} comments of an alarm`, () => {
    const notes = notesIn();
    for (let i = 0; i < MAX_COMMENTS + 5; i++) notes.comment('kalamata', 'a1', 'k', new Date(i), `c${i}`);
    const kept = notes.get('a1')!.comments;
    expect(kept).toHaveLength(MAX_COMMENTS);
    expect(kept[0]!.text).toBe('c5');
  });

  it('lists open alarms first (raised, then acknowledged), then cleared, each newest first; a note of another municipality does not count', () => {
    const notes = notesIn();
    notes.acknowledge('kalamata', 'acked', 'k', new Date(0));
    notes.acknowledge('kalamata', 'cleared-acked', 'k', new Date(0));
    notes.acknowledge('orestiada', 'foreign', 'k', new Date(0));
    const alarms = [alarm('old', 1), alarm('acked', 5), alarm('cleared-acked', 6, 9), alarm('new', 7), alarm('foreign', 8)];
    expect(listAlarms(alarms, notes).map((a) => [a.alarmId, a.state])).toEqual([
      ['foreign', 'raised'],
      ['new', 'raised'],
      ['old', 'raised'],
      ['acked', 'acknowledged'],
      ['cleared-acked', 'cleared'],
    ]);
    expect(listAlarms(alarms, notes, 'acknowledged').map((a) => a.alarmId)).toEqual(['acked']);
  });
});
