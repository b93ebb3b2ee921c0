/** A process for node-flags.test.ts: asks for a small young generation, then reports what it runs with. */
import { getHeapSpaceStatistics } from 'node:v8';
import { restartWithNodeFlags } from './node-flags.ts';

// Printed by each incarnation: the first is replaced before it prints anything else.
process.stderr.write(`started as ${process.pid}\n`);
const note = restartWithNodeFlags(['--max-semi-space-size=4']);
// Garbage enough for V8 to grow its young generation to whatever maximum it was given.
let kept: object[] = [];
for (let i = 0; i < 2_000_000; i++) {
  kept.push({ i, s: `x${i}` });
  if (kept.length > 100_000) kept = [];
}
const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
process.stdout.write(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, note, newSpaceMb: newSpace / 2 ** 20 }));
