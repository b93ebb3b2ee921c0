import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, appliesTo, parseRules, rulesFor } from './rules.ts';

describe('alarm rules', () => {
  it('fills the defaults of a rule and keeps the file as given', () => {
    const r = parseRules(JSON.stringify({ municipalities: { kalamata: [{ id: 'pump-power', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000 }] } }));
    expect(r).toEqual({ ok: true, rules: { defaults: [], municipalities: { kalamata: [{ id: 'pump-power', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000, forMinutes: 10, severity: 'major', enabled: true, where: {} }] } } });
  });

  it('names the rule and the field that is wrong, in one line', () => {
    const wrong = (rule: object) => parseRules(JSON.stringify({ municipalities: { kalamata: [{ id: 'ok', type: 'silence', kind: 'energy' }, rule] } }));
    expect(wrong({ id: 'pump', type: 'threshold', kind: 'energy', field: 'power_w' })).toEqual({ ok: false, error: "alarm rules: municipalities.kalamata[1] (rule 'pump').above: exactly one of above and below" });
    expect(wrong({ id: 'pump', type: 'threshold', kind: 'energy', field: 'fuel_pct', below: 3 })).toEqual({ ok: false, error: "alarm rules: municipalities.kalamata[1] (rule 'pump').field: not a field of this kind" });
    expect(wrong({ id: 'fence', type: 'geofence', kind: 'fleet', polygon: [[22, 37]] })).toMatchObject({ ok: false, error: expect.stringMatching(/^alarm rules: municipalities\.kalamata\[1\] \(rule 'fence'\)\.polygon: /) as string });
    expect(wrong({ id: 'x', type: 'rainbow' })).toMatchObject({ ok: false, error: expect.stringMatching(/^alarm rules: municipalities\.kalamata\[1\] \(rule 'x'\)\.type: /) as string });
    expect(wrong({ id: 'ok', type: 'silence', kind: 'fleet' })).toEqual({ ok: false, error: "alarm rules: kalamata: rule id 'ok' is used twice" });
    expect(parseRules('{not json')).toMatchObject({ ok: false, error: expect.stringMatching(/^alarm rules: not JSON/) as string });
  });

  it("gives a municipality the defaults, its own rule replacing a default of the same id, and none switched off", () => {
    const r = parseRules(JSON.stringify({ ...DEFAULT_RULES, municipalities: { mytilene: [{ id: 'meter-silent', type: 'silence', kind: 'energy', minutes: 90 }, { id: 'idling', type: 'idling', kind: 'fleet', enabled: false }] } }));
    if (!r.ok) throw new Error(r.error);
    const mine = rulesFor(r.rules, 'mytilene');
    expect(mine.find((x) => x.id === 'meter-silent')).toMatchObject({ minutes: 90 });
    expect(mine.map((x) => x.id)).not.toContain('idling');
    expect(rulesFor(r.rules, 'kalamata').find((x) => x.id === 'meter-silent')).toMatchObject({ minutes: 30 });
    expect(rulesFor(r.rules, 'kalamata').map((x) => x.id)).toContain('idling');
  });

  it('applies a rule only to devices with its attributes', () => {
    const lighting = DEFAULT_RULES.defaults.find((r) => r.id === 'lighting-in-daylight')!;
    expect(appliesTo(lighting, { buildingType: 'street-lighting', circuit: 'c-1' })).toBe(true);
    expect(appliesTo(lighting, { buildingType: 'school' })).toBe(false);
  });

  it('returns rules or a rejection for any input, never throws', () => {
    const rule = fc.record({ id: fc.oneof(fc.string(), fc.constantFrom('a', 'b')), type: fc.constantFrom('threshold', 'silence', 'geofence', 'occupancy', 'idling', 'daylight-draw', 'x'), kind: fc.constantFrom('energy', 'fleet', 'parking', 1), field: fc.jsonValue(), above: fc.jsonValue(), polygon: fc.jsonValue(), where: fc.jsonValue() }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.record({ defaults: fc.array(rule), municipalities: fc.dictionary(fc.string(), fc.array(rule)) }).map((v) => JSON.stringify(v))), (text) => {
        const r = parseRules(text);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(r.error).toMatch(/^alarm rules: /);
      }),
      { numRuns: 500 },
    );
  });
});
