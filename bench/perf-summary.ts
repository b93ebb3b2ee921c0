/**
 * Where processes spent their CPU, on-CPU only, from a system-wide `perf record`.
 *
 * V8's own profiler (`bench/cpu-profile.ts`) samples on a wall clock: on two busy cores a thread
 * that wakes another with a loopback socket write is often descheduled inside that write, and the
 * wait is charged to the write. `perf` samples only what runs, kernel included, so it is the one
 * to trust for "how much is socket I/O". Start the services with
 * `BENCH_NODE_ARGS="--perf-prof --perf-prof-path=/tmp/jit"` (a record of each piece of JIT-compiled
 * JavaScript: what it is, where and when), then during a step:
 *
 *   perf record -k 1 -F 499 -a -g -o perf.data -- sleep 15
 *   perf inject --jit -i perf.data -o perf.jit.data   # writes jitted-*.so beside the records
 *   perf script -F +pid -i perf.jit.data > perf.txt
 *   node bench/perf-summary.ts perf.txt 4242=normaliser 4243=writer …
 *
 * Not `--perf-basic-prof`: its map names an address by every function that was ever compiled
 * there, and V8 reuses the addresses of code it collected, so perf showed hot code compiled later
 * under an old name (kafkajs's record encoder as `path.normalizeString`, called by aedes).
 * `--perf-prof` records when each piece of code appeared, and `perf inject` names each sample by
 * the code that was there at its time.
 *
 * A label's id is a process's (all its threads) or one thread's (`npm start`'s, say).
 * A sample in the kernel, in garbage collection or in V8's JSON code is counted as such. Any other
 * sample in V8 or Node's own code (the interpreter, inline caches, Map and Set, promises, buffers)
 * is charged to the nearest JavaScript frame of its call chain, grouped by package or project file
 * as `cpu-profile.ts` groups them: `Map.prototype.delete` called by the duplicate check counts as
 * the duplicate check.
 */
import { readFileSync } from 'node:fs';
import { ownerOf } from './cpu-profile.ts';

const KERNEL = 'kernel (system calls, network, page faults)';
const GC = 'V8 garbage collection';
const JSON_CODE = 'V8 JSON';

/** `thread pid/tid [cpu] time: period event:` (`pid/` with `-F +pid`); the thread name may hold spaces. */
const SAMPLE = /^(.+?)\s+(?:(\d+)\/)?(\d+)\s+\[\d+\]\s+[\d.]+:\s+\d+\s+\S+:/;
/** `address symbol+offset (shared object)`. */
const FRAME = /^\s+[0-9a-f]+\s+(.+?)\s+\((.*)\)$/;

interface Frame {
  symbol: string;
  dso: string;
}

function categoryOf(stack: Frame[]): string {
  const leaf = stack[0];
  if (!leaf) return '(no stack)';
  if (leaf.dso.includes('kernel')) return KERNEL;
  if (/Scaveng|MarkCompact|Sweep|Marking|Evacuat|Heap::/.test(leaf.symbol)) return GC;
  if (/Json/.test(leaf.symbol)) return JSON_CODE;
  const js = stack.find((f) => f.symbol.startsWith('JS:'));
  // `JS:*name URL:line:column+offset`
  if (js) return ownerOf(/(\S+):\d+:\d+(\+0x[0-9a-f]+)?$/.exec(js.symbol)?.[1] ?? '');
  return /node$|^\[/.test(leaf.dso) ? 'V8 and Node, no JavaScript caller' : (leaf.dso.split('/').pop() ?? leaf.dso);
}

/** Shares of each labelled pid's samples by category, the largest first; `samples` counts the pid's. */
export function summarisePerf(script: string, labels: Map<number, string>): { name: string; samples: number; byCategory: [string, number][] }[] {
  const per = new Map<number, Map<string, number>>();
  /** The label this sample counts for: its process's, else its thread's. */
  let pid: number | undefined;
  let stack: Frame[] = [];
  const flush = () => {
    if (pid !== undefined && labels.has(pid)) {
      const cats = per.get(pid) ?? new Map<string, number>();
      per.set(pid, cats);
      const cat = categoryOf(stack);
      cats.set(cat, (cats.get(cat) ?? 0) + 1);
    }
    pid = undefined;
    stack = [];
  };
  for (const line of script.split('\n')) {
    const s = SAMPLE.exec(line);
    if (s) {
      flush();
      pid = s[2] !== undefined && labels.has(Number(s[2])) ? Number(s[2]) : Number(s[3]);
      continue;
    }
    const f = FRAME.exec(line);
    if (f) stack.push({ symbol: f[1]!, dso: f[2]! });
    else if (line.trim() === '') flush();
  }
  flush();
  return [...labels].map(([p, name]) => {
    const cats = per.get(p) ?? new Map<string, number>();
    const samples = [...cats.values()].reduce((a, b) => a + b, 0);
    const byCategory = [...cats].map(([c, n]): [string, number] => [c, n / samples]).sort((a, b) => b[1] - a[1]);
    return { name, samples, byCategory };
  });
}

if (import.meta.main) {
  const [file, ...args] = process.argv.slice(2);
  if (!file || args.length === 0) throw new Error('usage: node bench/perf-summary.ts PERF_SCRIPT.txt PID=name … [--top N]');
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 10;
  const labels = new Map(args.map((a) => a.split('=')).map(([p, name]) => [Number(p), name ?? p!]));
  for (const s of summarisePerf(readFileSync(file, 'utf8'), labels)) {
    console.log(`${s.name}: ${s.samples} samples`);
    for (const [c, share] of s.byCategory.slice(0, top)) console.log(`  ${(100 * share).toFixed(1).padStart(5)} %  ${c}`);
  }
}
