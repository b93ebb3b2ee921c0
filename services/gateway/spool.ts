/**
 * Store-and-forward spool: an append-only, bounded log on disk for readings accepted while Kafka is
 * away. Appends are group-committed (one write + one fdatasync per batch) and a publish is
 * acknowledged only after its batch is synced, so a spooled reading is as durable as one in Kafka.
 * Replay reads from a cursor in append order; a torn tail left by a crash is cut off at open.
 *
 * Layout: `segment-<n>.log` files of `key\ttimestamp\tvalue\n` lines (value is JSON, which has no raw
 * newlines or tabs outside strings' escapes) and `cursor.json` = the replay position.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, ftruncateSync, readSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ERROR_CODES } from '../../shared/errors.ts';

export interface SpoolRecord {
  key: string;
  /** Epoch ms the gateway accepted it; becomes the Kafka record timestamp. */
  timestamp: number;
  value: string;
}

export class SpoolFullError extends Error {
  override name = 'SpoolFullError';
  readonly code = ERROR_CODES.SPOOL_FULL;

  constructor(maxBytes: number) {
    super(`spool full (${maxBytes} bytes)`);
  }
}

export interface SpoolOptions {
  maxBytes: number;
  segmentBytes: number;
  /** How long an append may wait for others to share its fsync. */
  fsyncDelayMs: number;
}

interface Cursor {
  segment: number;
  offset: number;
}

interface Pending {
  data: string;
  bytes: number;
  records: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const segName = (n: number) => `segment-${String(n).padStart(12, '0')}.log`;
const SEG_RE = /^segment-(\d{12})\.log$/;

export class Spool {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private flushing = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private active!: { n: number; fh: FileHandle; size: number };
  private cursor: Cursor = { segment: 1, offset: 0 };
  private records = 0;
  private bytes = 0;
  private closed = false;

  readonly dir: string;
  private readonly opts: SpoolOptions;

  private constructor(dir: string, opts: SpoolOptions) {
    this.dir = dir;
    this.opts = opts;
  }

  static async open(dir: string, opts: SpoolOptions): Promise<Spool> {
    const spool = new Spool(dir, opts);
    await spool.recover();
    return spool;
  }

  /** Records waiting for replay. */
  get depthRecords(): number {
    return this.records;
  }

  get depthBytes(): number {
    return this.bytes;
  }

  get isEmpty(): boolean {
    return this.records === 0 && this.pending.length === 0 && !this.flushing;
  }

  /** Resolves once the records are synced to disk; rejects with SpoolFullError when they do not fit. */
  append(records: SpoolRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool closed'));
    const data = records.map((r) => `${r.key}\t${r.timestamp}\t${r.value}\n`).join('');
    const bytes = Buffer.byteLength(data);
    if (this.bytes + this.pendingBytes + bytes > this.opts.maxBytes) return Promise.reject(new SpoolFullError(this.opts.maxBytes));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ data, bytes, records: records.length, resolve, reject });
      this.pendingBytes += bytes;
      this.scheduleFlush();
    });
  }

  /**
   * When the oldest record waiting for replay was accepted (epoch ms), undefined when none waits:
   * how far behind the centre this gateway is. Reads the head line's first bytes only.
   */
  oldestTimestamp(): number | undefined {
    if (this.records === 0) return undefined;
    let { segment, offset } = this.cursor;
    for (; segment <= this.active.n; segment++, offset = 0) {
      const limit = segment === this.active.n ? this.active.size : this.segmentSize(segment);
      if (offset >= limit) continue;
      const head = this.readChunk(segment, offset, Math.min(limit - offset, 512)).toString('utf8');
      const t1 = head.indexOf('\t');
      const t2 = head.indexOf('\t', t1 + 1);
      const ts = t1 >= 0 && t2 > t1 ? Number(head.slice(t1 + 1, t2)) : NaN;
      return Number.isFinite(ts) ? ts : undefined;
    }
    return undefined;
  }

  /** Reads up to `max` records from the replay cursor; `commit()` moves the cursor past them. */
  read(max: number): { records: SpoolRecord[]; commit: () => void } {
    for (;;) {
      const { segment, offset } = this.cursor;
      const limit = segment === this.active.n ? this.active.size : this.segmentSize(segment);
      if (offset >= limit) {
        if (segment >= this.active.n) return { records: [], commit: () => undefined };
        // A finished segment: step to the next one and delete it.
        this.saveCursor({ segment: segment + 1, offset: 0 });
        rmSync(join(this.dir, segName(segment)), { force: true });
        continue;
      }
      // Read 4 MiB, more only when one record is longer than that.
      let chunk = this.readChunk(segment, offset, Math.min(limit - offset, 4 * 1024 * 1024));
      while (chunk.indexOf(10) < 0 && chunk.length < limit - offset) {
        chunk = this.readChunk(segment, offset, Math.min(limit - offset, chunk.length * 2));
      }
      const records: SpoolRecord[] = [];
      let pos = 0;
      while (records.length < max) {
        const nl = chunk.indexOf(10, pos);
        if (nl < 0) break;
        const line = chunk.toString('utf8', pos, nl);
        const t1 = line.indexOf('\t');
        const t2 = line.indexOf('\t', t1 + 1);
        records.push({ key: line.slice(0, t1), timestamp: Number(line.slice(t1 + 1, t2)), value: line.slice(t2 + 1) });
        pos = nl + 1;
      }
      const next = { segment, offset: offset + pos };
      return {
        records,
        commit: () => {
          this.saveCursor(next);
          this.records -= records.length;
          this.bytes -= pos;
        },
      };
    }
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.flush();
    this.closed = true;
    await this.active.fh.close();
  }

  private scheduleFlush() {
    if (this.flushing || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.opts.fsyncDelayMs);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    const bytes = batch.reduce((s, p) => s + p.bytes, 0);
    try {
      await this.active.fh.appendFile(batch.map((p) => p.data).join(''));
      await this.active.fh.datasync();
      this.active.size += bytes;
      this.pendingBytes -= bytes;
      this.bytes += bytes;
      this.records += batch.reduce((s, p) => s + p.records, 0);
      for (const p of batch) p.resolve();
    } catch (err) {
      this.pendingBytes -= bytes;
      for (const p of batch) p.reject(err as Error);
    } finally {
      // A segment that cannot be rolled now (no file descriptor left) is rolled at a later flush.
      if (this.active.size >= this.opts.segmentBytes) await this.roll().catch(() => undefined);
      this.flushing = false;
      if (this.pending.length > 0) this.scheduleFlush();
    }
  }

  /** The next segment is opened before the full one is closed: a failed open leaves the spool writable. */
  private async roll() {
    const n = this.active.n + 1;
    const fh = await open(join(this.dir, segName(n)), 'a');
    const full = this.active.fh;
    this.active = { n, fh, size: 0 };
    await full.close();
  }

  private async recover() {
    mkdirSync(this.dir, { recursive: true });
    const segments = readdirSync(this.dir)
      .map((f) => SEG_RE.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const cursorFile = join(this.dir, 'cursor.json');
    if (existsSync(cursorFile)) this.cursor = JSON.parse(readFileSync(cursorFile, 'utf8')) as Cursor;
    else this.cursor = { segment: segments[0] ?? 1, offset: 0 };
    for (const n of segments) if (n < this.cursor.segment) rmSync(join(this.dir, segName(n)), { force: true });
    const last = segments.at(-1) ?? this.cursor.segment;
    const lastPath = join(this.dir, segName(last));
    this.cutTornTail(lastPath);
    for (const n of segments.filter((s) => s >= this.cursor.segment)) {
      const buf = readFileSync(join(this.dir, segName(n)));
      const from = n === this.cursor.segment ? this.cursor.offset : 0;
      this.bytes += buf.length - from;
      for (let i = buf.indexOf(10, from); i >= 0; i = buf.indexOf(10, i + 1)) this.records++;
    }
    this.active = { n: last, fh: await open(lastPath, 'a'), size: existsSync(lastPath) ? statSync(lastPath).size : 0 };
  }

  /** A crash mid-write can leave a last line without its newline; it was never acknowledged. */
  private cutTornTail(path: string) {
    if (!existsSync(path)) return;
    const buf = readFileSync(path);
    const end = buf.lastIndexOf(10) + 1;
    if (end === buf.length) return;
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, end);
    closeSync(fd);
  }

  private segmentSize(n: number): number {
    const p = join(this.dir, segName(n));
    return existsSync(p) ? statSync(p).size : 0;
  }

  private readChunk(n: number, offset: number, length: number): Buffer {
    const fd = openSync(join(this.dir, segName(n)), 'r');
    try {
      const buf = Buffer.alloc(length);
      const got = readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  private saveCursor(c: Cursor) {
    this.cursor = c;
    const file = join(this.dir, 'cursor.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(c));
    renameSync(`${file}.tmp`, file);
  }
}
