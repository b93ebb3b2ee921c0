/**
 * The embedded store's writes, in a worker thread of their own (see `thread-calls.ts` for why):
 * every batch of points is one transaction, committed (fsync'd) before the call answers, so a
 * write that resolved is on disk exactly as before. The store's reads stay on the caller's thread
 * and see every answered write (write-ahead log: each read starts from the last commit).
 */
import { workerData } from 'node:worker_threads';
import { seriesKey, type StorePoint } from '../store/store.ts';
import { openDatabase } from './sqlite.ts';
import { answerCalls } from './thread-calls.ts';

const db = openDatabase((workerData as { path: string }).path);
const upsert = db.prepare(`
  INSERT INTO points (measurement, series, ts, municipality, device, tags, fields)
  VALUES (@measurement, @series, @ts, @municipality, @device, @tags, @fields)
  ON CONFLICT (measurement, series, ts) DO UPDATE SET fields = json_patch(points.fields, excluded.fields)`);

const write = db.transaction((points: StorePoint[]) => {
  for (const p of points) {
    upsert.run({
      measurement: p.measurement,
      series: seriesKey(p.tags),
      ts: p.ts,
      municipality: p.tags.municipality ?? '',
      device: p.tags.device ?? '',
      tags: JSON.stringify(p.tags),
      fields: JSON.stringify(p.fields),
    });
  }
});

export const storeWriterCalls = {
  write: (points: StorePoint[]) => write(points),
};

answerCalls(storeWriterCalls);
