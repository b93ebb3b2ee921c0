/**
 * Where a process's CPU time went, from a V8 `.cpuprofile` (`BENCH_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=DIR" npm run bench:peer …` writes one per service): self time by function and by
 * package, the largest first, as shares of the time the process was busy. `node bench/cpu-profile.ts FILE [--top N]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> or the project's own file, for grouping. */
export function ownerOf(url: string): string {
  if (!url) return '(native / V8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node core';
  const own = /\/(services|shared|bench|simulators)\/.*$/.exec(url);
  return own ? own[0].slice(1) : url;
}

export function summarise(p: Profile, top = 15): { total: number; byFunction: [string, number][]; byOwner: [string, number][] } {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.entries()].filter(([id]) => nodes.get(id)!.callFrame.functionName !== '(idle)').reduce((a, [, us]) => a + us, 0);
  const fn = new Map<string, number>();
  const owner = new Map<string, number>();
  for (const [id, us] of self) {
    const f = nodes.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue; // waiting, not working
    const key = `${f.functionName || '(anonymous)'} ${ownerOf(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    owner.set(ownerOf(f.url), (owner.get(ownerOf(f.url)) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { total, byFunction: sorted(fn), byOwner: sorted(owner) };
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/cpu-profile.ts FILE.cpuprofile [--top N]');
  const topAt = process.argv.indexOf('--top');
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, topAt > 0 ? Number(process.argv[topAt + 1]) : 15);
  const pct = (us: number) => `${((100 * us) / s.total).toFixed(1)} %`;
  console.log(`${file}: ${(s.total / 1e6).toFixed(1)} s busy (idle left out)\n\nby package or file (self time):`);
  for (const [k, us] of s.byOwner) console.log(`  ${pct(us).padStart(7)}  ${k}`);
  console.log('\nby function (self time):');
  for (const [k, us] of s.byFunction) console.log(`  ${pct(us).padStart(7)}  ${k}`);
}
