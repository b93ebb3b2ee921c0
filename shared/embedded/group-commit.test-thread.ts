/** A thread for `group-commit.test.ts`: inserts rows under group commit and counts its commits. */
import { workerData } from 'node:worker_threads';
import { answerInGroupCommits } from './group-commit.ts';
import { openDatabase } from './sqlite.ts';

const db = openDatabase((workerData as { path: string }).path);
db.exec('CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, note TEXT NOT NULL)');
const insert = db.prepare<[number, string | null]>('INSERT INTO rows (id, note) VALUES (?, ?)');
let commits = 0;
let rollbacks = 0;

export const groupCalls = {
  /** Inserts every row; a null note fails the call half-way (NOT NULL), after the rows before it. */
  insert: (rows: [number, string | null][]) => {
    for (const [id, note] of rows) insert.run(id, note);
    return rows.length;
  },
  commits: () => commits,
  rollbacks: () => rollbacks,
};

answerInGroupCommits(db, groupCalls, { committed: () => commits++, rolledBack: () => rollbacks++ });
