import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocationAudit, type LocationRead } from './location-audit.ts';

const read = (municipality: string, at: string): LocationRead => ({ at, keyId: 'k1', municipality, route: 'mobility/fleet', vehicles: ['vehicle-0123456789abcdef'], pseudonymous: true, from: null, to: null });

describe('location audit', () => {
  it("appends every read and gives each municipality its own in a time range, past a line cut short", () => {
    const audit = new LocationAudit(join(mkdtempSync(join(tmpdir(), 'audit-')), 'location-audit.jsonl'));
    audit.record(read('kalamata', '2026-12-01T10:00:00.000Z'));
    audit.record(read('mytilene', '2026-12-01T11:00:00.000Z'));
    appendFileSync(audit.path, '{"at":"2026-12-0'); // a crash mid-append
    appendFileSync(audit.path, '\n');
    audit.record(read('kalamata', '2026-12-02T10:00:00.000Z'));
    expect(audit.reads('kalamata', Date.UTC(2026, 11, 1), Date.UTC(2026, 11, 3)).map((r) => r.at)).toEqual(['2026-12-01T10:00:00.000Z', '2026-12-02T10:00:00.000Z']);
    expect(audit.reads('kalamata', Date.UTC(2026, 11, 2), Date.UTC(2026, 11, 3))).toHaveLength(1);
    expect(audit.reads('mytilene', 0, Date.UTC(2027, 0, 1)).map((r) => r.municipality)).toEqual(['mytilene']);
  });
});
