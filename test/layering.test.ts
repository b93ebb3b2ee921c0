/**
 * The shared layer depends on nothing that should depend on it: no module under shared/ imports
 * from services/ or simulators/; and the stages never need the local-engine tooling (engines/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module a file imports (static and dynamic), as a path relative to the repository. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.flatMap((s) => (s.startsWith('.') ? [relative(root, resolve(dirname(file), s))] : s.startsWith('#shared/') ? [`shared/${s.slice(8)}`] : []));
}

describe('layering', () => {
  it('keeps shared/ free of imports from services/ and simulators/', () => {
    const offending = tsFiles(join(root, 'shared')).flatMap((f) => importsOf(f).filter((i) => /^(services|simulators)\//.test(i)).map((i) => `${relative(root, f)} → ${i}`));
    expect(offending).toEqual([]);
  });

  it('keeps services/ free of imports from engines/ (the local-engine tooling is not in the image)', () => {
    const offending = tsFiles(join(root, 'services'))
      .filter((f) => !f.endsWith('.test.ts'))
      .flatMap((f) => importsOf(f).filter((i) => i.startsWith('engines/')).map((i) => `${relative(root, f)} → ${i}`));
    expect(offending).toEqual([]);
  });

  it('sees an import when there is one (the check is not blind)', () => {
    expect(importsOf(join(root, 'services/catalogue.ts'))).toContain('services/writer/stage.ts');
  });
});
