import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RotatingLogFile } from './log-file.ts';

describe('RotatingLogFile', () => {
  it('rotates by size and keeps at most `keep` old files, however much is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logrot-'));
    const f = new RotatingLogFile(join(dir, 'pipeline.log'), { maxBytes: 200 * 1024, keep: 3 });
    const line = `${'x'.repeat(199)}\n`;
    for (let i = 0; i < 20_000; i++) f.write(line); // 4 MB
    f.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['pipeline.log', 'pipeline.log.1', 'pipeline.log.2', 'pipeline.log.3']);
    const total = files.reduce((s, n) => s + statSync(join(dir, n)).size, 0);
    expect(total).toBeLessThanOrEqual(4 * (200 + 64) * 1024);
    expect(statSync(join(dir, 'pipeline.log.1')).size).toBeGreaterThanOrEqual(200 * 1024);
  });

  it('shares one file between writers: a rotation by one is followed by the other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logrot-'));
    const path = join(dir, 'pipeline.log');
    const a = new RotatingLogFile(path, { maxBytes: 100 * 1024, keep: 2 });
    const b = new RotatingLogFile(path, { maxBytes: 100 * 1024, keep: 2 });
    for (let i = 0; i < 5000; i++) {
      a.write(`a${i}${'.'.repeat(60)}\n`);
      b.write(`b${i}${'.'.repeat(60)}\n`);
    }
    a.write('a-last\n');
    b.write('b-last\n');
    const all = readdirSync(dir).map((n) => readFileSync(join(dir, n), 'utf8')).join('');
    expect(readdirSync(dir).length).toBeLessThanOrEqual(3);
    // Each writer follows the live file within its check interval (64 KiB of its own writes): nothing recent is lost.
    expect(all).toContain('a-last');
    expect(all).toContain('b-last');
    expect(all).toContain('b4999.');
    for (const n of readdirSync(dir)) expect(statSync(join(dir, n)).size).toBeLessThanOrEqual(100 * 1024 + 2 * 64 * 1024 + 200);
  });
});
