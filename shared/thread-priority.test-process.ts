/** A process for thread-priority.test.ts: lowers itself, starts a thread, and prints every thread's nice value. */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { niceThisProcess } from './thread-priority.ts';

/** Field 19 of /proc/…/stat is the nice value; the command name before it may hold spaces. */
const niceOf = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);

niceThisProcess(Number(process.argv[2]));
const later = new Worker('setTimeout(() => {}, 200)', { eval: true });
await new Promise((r) => later.once('online', r));
process.stdout.write(JSON.stringify(readdirSync('/proc/self/task').map(niceOf)));
await later.terminate();
