/**
 * An appending log file rotated by size with a bound on the total: when `path` reaches `maxBytes`
 * it becomes `path.1` (`path.1` becomes `path.2` …, the oldest beyond `keep` is deleted), so the
 * logs never take more than about (keep + 1) × maxBytes, whatever floods them.
 *
 * Several writers may share one file (npm start's threads each log to it): each appends with
 * O_APPEND, and each checks the path now and then (every 64 KiB it wrote, or each second) —
 * reopening when another writer rotated it, rotating when it is full. Written synchronously, so a
 * fatal line is on disk before the process exits. A write that fails (the disk is full) drops
 * that line and says so once a minute on stderr: logging must never be what stops the product.
 * (pino's own rotating transports name files by number or date and expect one writer.)
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LogFileOptions {
  maxBytes: number;
  /** Rotated files kept beside the live one. */
  keep: number;
}

const CHECK_BYTES = 64 * 1024;
const CHECK_MS = 1000;

export class RotatingLogFile {
  private fd: number | undefined;
  private ino = 0;
  private sinceCheck = 0;
  private checkedAt = 0;
  private failingUntil = 0;

  readonly path: string;
  private readonly o: LogFileOptions;

  constructor(path: string, o: LogFileOptions) {
    this.path = path;
    this.o = o;
    mkdirSync(dirname(path), { recursive: true });
  }

  write(line: string): void {
    try {
      if (this.fd === undefined) this.open();
      const bytes = writeSync(this.fd!, line);
      this.sinceCheck += bytes;
      const now = Date.now();
      if (this.sinceCheck >= CHECK_BYTES || now - this.checkedAt >= CHECK_MS) this.check(now);
    } catch (err) {
      this.failed(err as NodeJS.ErrnoException);
    }
  }

  /** The files this log may occupy, newest first. */
  files(): string[] {
    return [this.path, ...Array.from({ length: this.o.keep }, (_, i) => `${this.path}.${i + 1}`)];
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    this.fd = openSync(this.path, 'a');
    this.ino = fstatSync(this.fd).ino;
    this.sinceCheck = 0;
  }

  private check(now: number): void {
    this.sinceCheck = 0;
    this.checkedAt = now;
    let st;
    try {
      st = statSync(this.path);
    } catch {
      return this.reopen(); // rotated away by another writer, not yet recreated
    }
    if (st.ino !== this.ino) return this.reopen();
    if (st.size >= this.o.maxBytes) this.rotate();
  }

  private rotate(): void {
    const files = this.files();
    rmSync(files[files.length - 1]!, { force: true });
    for (let i = files.length - 2; i >= 0; i--) {
      try {
        renameSync(files[i]!, files[i + 1]!);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.reopen();
  }

  private reopen(): void {
    this.close();
    this.open();
  }

  private failed(err: NodeJS.ErrnoException): void {
    try {
      this.close();
    } catch {
      // the descriptor is gone either way
    }
    const now = Date.now();
    if (now < this.failingUntil) return;
    this.failingUntil = now + 60_000;
    process.stderr.write(`log file ${this.path}: ${err.code ?? err.message}; log lines are dropped until it can be written again\n`);
  }
}
