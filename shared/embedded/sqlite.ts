/**
 * Opening an embedded SQLite database the way both embedded parts need it: write-ahead log and
 * `synchronous=FULL`, so a transaction that returned is on disk — it survives `kill -9` of the
 * process and a power cut alike.
 *
 * On Node.js's built-in `node:sqlite` (no native addon to build at install time: see the README
 * for the measurement that chose it over better-sqlite3). This file is the only one that knows
 * the engine's API; the log and the store use the small `Db` below.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';

export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): { changes: number };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

export interface Db {
  exec(sql: string): void;
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R>;
  /** `fn` inside BEGIN … COMMIT (rolled back when it throws). */
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T;
  readonly open: boolean;
  close(): void;
}

/** BLOB columns come back as Uint8Array; the log's callers read them as Buffers (no copy). */
function withBuffers<R>(row: unknown): R {
  if (row && typeof row === 'object') {
    const r = row as Record<string, unknown>;
    for (const k in r) {
      const v = r[k];
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) r[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return row as R;
}

function statement<P extends unknown[], R>(s: StatementSync): Statement<P, R> {
  const args = (p: P) => p as unknown as SQLInputValue[];
  return {
    run: (...p) => ({ changes: Number(s.run(...args(p)).changes) }),
    get: (...p) => {
      const row = s.get(...args(p));
      return row === undefined ? undefined : withBuffers<R>(row);
    },
    all: (...p) => s.all(...args(p)).map((row) => withBuffers<R>(row)),
  };
}

function wrap(db: DatabaseSync): Db {
  return {
    exec: (sql) => db.exec(sql),
    prepare: <P extends unknown[], R>(sql: string) => statement<P, R>(db.prepare(sql)),
    transaction:
      (fn) =>
      (...a) => {
        db.exec('BEGIN');
        try {
          const r = fn(...a);
          db.exec('COMMIT');
          return r;
        } catch (err) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw err;
        }
      },
    get open() {
      return db.isOpen;
    },
    close: () => db.close(),
  };
}

export function openDatabase(path: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
  return wrap(db);
}

/** Opens a database file to read only (tests and tools looking into the embedded log). */
export function openReadOnly(path: string): Db {
  return wrap(new DatabaseSync(path, { readOnly: true }));
}

/** SQLite's primary result codes this project tells apart, by number (sqlite3.h). */
const RESULT_CODES: Record<number, string> = { 5: 'SQLITE_BUSY', 10: 'SQLITE_IOERR', 13: 'SQLITE_FULL', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT', 20: 'SQLITE_MISMATCH' };

/** The SQLite result code of an error thrown by the database (`SQLITE_FULL`, …), if it is one. */
export function sqliteCode(err: unknown): string | undefined {
  const errcode = (err as { errcode?: number } | null)?.errcode;
  return typeof errcode === 'number' ? (RESULT_CODES[errcode & 0xff] ?? `SQLITE_${errcode & 0xff}`) : undefined;
}
