/**
 * Opening an embedded SQLite database (better-sqlite3) the way both embedded parts need it:
 * write-ahead log and `synchronous=FULL`, so a transaction that returned is on disk — it survives
 * `kill -9` of the process and a power cut alike.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export function openDatabase(path: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}
