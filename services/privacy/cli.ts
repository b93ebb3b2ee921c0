/**
 * `npm run privacy -- export --device D [--out FILE] [--format json|csv]` and `erase --device D`:
 * a data subject's access and erasure requests about one device, on the engines the other commands
 * use — Kafka and InfluxDB when KAFKA_BROKERS / INFLUX_URL are set (an operator's environment, as
 * `npm run services -- status` prints it), else `npm start`'s embedded log and store in DATA_DIR.
 * Both are audited in DATA_DIR/privacy-requests.jsonl.
 */
import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { busEnv, commonEnv, loadConfig } from '../../shared/config.ts';
import { openBus, openDeviceRegistry, openStore } from '../../shared/engines.ts';
import { createLogger } from '../../shared/logging.ts';
import { identSchema } from '../../shared/schemas/topics.ts';
import { AlarmNotes, defaultAlarmNotesPath } from '../kpi-api/alarm-notes.ts';
import { toCsv } from '../kpi-api/csv.ts';
import { audit, collect, countsOf, erase, type DeviceData, type RequestDeps } from './requests.ts';

const cfg = loadConfig({ ...commonEnv, ...busEnv });
const device = (v: string) => {
  if (!identSchema.safeParse(v).success) throw new InvalidArgumentError('a device id is lower-case [a-z0-9-]');
  return v;
};
const by = `cli:${userInfo().username}`;

async function withDeps<T>(run: (deps: RequestDeps) => Promise<T>): Promise<T> {
  const log = createLogger('privacy', process.env.LOG_LEVEL ?? 'warn');
  const bus = openBus(process.env, { service: 'privacy', log, embedded: { dataDir: cfg.DATA_DIR } }).engine;
  const store = openStore(process.env, { embedded: { dataDir: cfg.DATA_DIR } }).engine;
  const registry = (await openDeviceRegistry(process.env, { service: 'privacy', log, dataDir: cfg.DATA_DIR })).engine;
  try {
    return await run({ store, bus, deadLetterTopic: cfg.TOPIC_DEADLETTER, registry, notes: new AlarmNotes(defaultAlarmNotesPath(cfg.DATA_DIR)), auditPath: join(cfg.DATA_DIR, 'privacy-requests.jsonl') });
  } finally {
    await registry.close();
    await bus.close();
    await store.close();
  }
}

/** Rows of differing keys as one CSV (every column any row has). */
function csvOf(rows: Record<string, unknown>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return toCsv(rows.map((r) => Object.fromEntries(columns.map((c) => [c, typeof r[c] === 'object' && r[c] !== null ? JSON.stringify(r[c]) : (r[c] ?? null)]))));
}

function writeCsv(dir: string, d: DeviceData): string[] {
  mkdirSync(dir, { recursive: true });
  const point = (p: DeviceData['raw'][number]) => ({ measurement: p.measurement, time: new Date(p.ts).toISOString(), ...p.tags, ...p.fields });
  const files: [string, Record<string, unknown>[]][] = [
    ['registry.csv', d.registry ? [d.registry] : []],
    ['raw.csv', d.raw.map(point)],
    ['aggregates.csv', d.aggregates.map(point)],
    ['alarms.csv', d.alarms.map((a) => ({ ...a, raisedAt: new Date(a.raisedAt).toISOString(), clearedAt: a.clearedAt === undefined ? null : new Date(a.clearedAt).toISOString() }))],
    ['dead-letters.csv', d.deadLetters.map((x) => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : { record: x }))],
  ];
  for (const [name, rows] of files) writeFileSync(join(dir, name), csvOf(rows), { mode: 0o600 });
  return files.map(([name]) => join(dir, name));
}

const program = new Command('privacy').description("a data subject's requests about one device: everything held about it, or its erasure");

program
  .command('export')
  .description('write everything held about a device: registry entry, raw readings, aggregates, alarms and their notes, dead letters')
  .requiredOption('--device <id>', 'the device id', device)
  .option('--out <path>', 'a JSON file, or a directory for CSV (default: privacy-export-<device>.json / privacy-export-<device>/)')
  .option('--format <f>', 'json or csv', (v) => z.enum(['json', 'csv']).parse(v), 'json' as 'json' | 'csv')
  .action(async (o: { device: string; out?: string; format: 'json' | 'csv' }) => {
    await withDeps(async (deps) => {
      const data = await collect(deps, o.device);
      const counts = countsOf(data);
      const out = o.out ?? (o.format === 'json' ? `privacy-export-${o.device}.json` : `privacy-export-${o.device}`);
      if (o.format === 'json') writeFileSync(out, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
      else writeCsv(out, data);
      audit(deps, { action: 'export', device: o.device, by, counts, out });
      console.log(`${o.device}: registry entry ${counts.registry}, raw readings ${counts.raw}, aggregate windows ${counts.aggregates}, alarms ${counts.alarms}, dead letters ${counts.deadLetters} → ${out}`);
    });
  });

program
  .command('erase')
  .description('delete everything held about a device from every store, the dead-letter topic included, and its registry entry')
  .requiredOption('--device <id>', 'the device id', device)
  .action(async (o: { device: string }) => {
    await withDeps(async (deps) => {
      const r = await erase(deps, o.device, by);
      const m = r.removed;
      console.log(`${o.device}: removed registry entry ${m.registry}, raw readings ${m.raw}, aggregate windows ${m.aggregates}, alarms ${m.alarms} (with their notes), dead letters ${m.deadLetters}`);
      const left = Object.entries(r.remaining).filter(([, n]) => n > 0);
      if (left.length > 0) {
        console.error(`still held: ${left.map(([k, n]) => `${k} ${n}`).join(', ')}`);
        process.exitCode = 1;
      }
    });
  });

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
