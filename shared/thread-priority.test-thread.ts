/** A thread for thread-priority.test.ts: sets its nice value, then reports its own and a child thread's. */
import { getPriority } from 'node:os';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { niceThisThread } from './thread-priority.ts';

const { nice, child } = workerData as { nice: number; child?: boolean };
if (child) {
  parentPort!.postMessage(getPriority(0));
} else {
  niceThisThread(nice);
  const grandchild = new Worker(new URL(import.meta.url), { workerData: { nice, child: true } });
  grandchild.once('message', (inherited: number) => parentPort!.postMessage({ own: getPriority(0), inherited }));
}
