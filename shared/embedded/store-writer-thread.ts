/**
 * The embedded store's writes, in a worker thread of their own (see `shared/thread-calls.ts` for why).
 * The writes waiting for the thread are committed together (`group-commit.ts`: one fsync for the
 * writer's and the aggregator's batches alike), each all or nothing, before any is answered, so a
 * write that resolved is on disk exactly as before. The store's reads stay on the caller's thread
 * and see every answered write (write-ahead log: each read starts from the last commit).
 */
import { workerData } from 'node:worker_threads';
import { seriesKey, type StorePoint } from '../store/store.ts';
import { openDatabase } from './sqlite.ts';
import { answerInGroupCommits } from './group-commit.ts';

const db = openDatabase((workerData as { path: string }).path);
const upsert = db.prepare(`
  INSERT INTO points (measurement, series, ts, municipality, device, tags, fields)
  VALUES (@measurement, @series, @ts, @municipality, @device, @tags, @fields)
  ON CONFLICT (measurement, ts, series) DO UPDATE SET fields = json_patch(points.fields, excluded.fields)`);

const write = (points: StorePoint[]) => {
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
};

export const storeWriterCalls = { write };

answerInGroupCommits(db, storeWriterCalls);
