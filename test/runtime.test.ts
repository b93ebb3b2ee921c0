/**
 * One Node.js everywhere: the suite runs on the version the project pins (the `node` dev
 * dependency that `npm ci` installs, whatever Node.js the machine has), and .nvmrc, `engines` and
 * every stage of the Dockerfile name that same version — what is tested is what ships.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
const pinned = pkg.devDependencies.node!;

describe('runtime', () => {
  it('runs the tests on the pinned Node.js, the one .nvmrc and the Dockerfile name', () => {
    console.log(`[runtime] tests run on Node.js ${process.version}; pinned ${pinned}`);
    expect(process.version).toBe(`v${pinned}`);
    expect(readFileSync('.nvmrc', 'utf8').trim()).toBe(pinned);
    const bases = [...readFileSync('Dockerfile', 'utf8').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toMatch(new RegExp(`^node:${pinned.replace(/\./g, '\\.')}-`));
    const min = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node)!;
    expect(min, 'engines.node is ">=X.Y.Z"').not.toBeNull();
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major).toBe(Number(min[1])); // the LTS line the project supports
    expect(minor).toBeGreaterThanOrEqual(Number(min[2]));
  });

  it('needs no TypeScript runner and no native addon: the services start on Node.js alone', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['start.ts', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: start');
    expect(r.stderr).not.toMatch(/ExperimentalWarning/);
    const lock = readFileSync('package-lock.json', 'utf8');
    expect(lock).not.toContain('node_modules/better-sqlite3');
    expect(lock).not.toContain('node_modules/tsx"');
  });
});
