import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pseudonymOf, VehiclePseudonyms } from './pseudonyms.ts';

const fresh = () => new VehiclePseudonyms(join(mkdtempSync(join(tmpdir(), 'pseudonyms-')), 'pseudonym-keys.json'));

describe('vehicle pseudonyms', () => {
  it('are stable per municipality, differ between municipalities, and change when the secret is rotated', () => {
    const p = fresh();
    const a = p.of('kalamata', 'kalamata-fleet-001');
    expect(a).toMatch(/^vehicle-[0-9a-f]{16}$/);
    expect(p.of('kalamata', 'kalamata-fleet-001')).toBe(a);
    expect(new VehiclePseudonyms(p.path).of('kalamata', 'kalamata-fleet-001')).toBe(a); // another process, same file
    expect(p.of('mytilene', 'kalamata-fleet-001')).not.toBe(a);
    p.rotate('kalamata');
    expect(p.of('kalamata', 'kalamata-fleet-001')).not.toBe(a);
    expect(statSync(p.path).mode & 0o777).toBe(0o600); // secrets: the owner's only
  });

  it('for any device ids: distinct ids get distinct pseudonyms, none containing the id', () => {
    const secret = 'ab'.repeat(32);
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 3, maxLength: 40 }), { minLength: 2, maxLength: 50 }), (ids) => {
        const names = ids.map((id) => pseudonymOf(secret, id));
        expect(new Set(names).size).toBe(ids.length);
        for (const [i, n] of names.entries()) expect(n.includes(ids[i]!) && ids[i]!.length > 8).toBe(false);
      }),
    );
  });
});
