/**
 * `npm run kpi -- energy|mobility|health --municipality M [--from …] [--to …]`: the KPI API's
 * numbers as a table in the terminal (or CSV/JSON), read straight from the store — InfluxDB when
 * INFLUX_URL is set, else the embedded store of `npm start` in DATA_DIR — for operators on the
 * platform's own machines, so it needs no API key.
 */
import Table from 'cli-table3';
import { Command, InvalidArgumentError } from 'commander';
import { userInfo } from 'node:os';
import { z } from 'zod';
import { loadConfig } from '../../shared/config.ts';
import { openDeviceRegistry, openStore } from '../../shared/engines.ts';
import { createLogger } from '../../shared/logging.ts';
import { kpiApiEnv } from './config.ts';
import { toCsv } from './csv.ts';
import { Kpis } from './kpis.ts';
import { acknowledgeBody, alarmsQuery, commentBody, energyQuery, healthQuery, MAX_RANGE_DAYS, rangeQuery } from './params.ts';
import { AlarmNotes, defaultAlarmNotesPath, listAlarms } from './alarm-notes.ts';

interface Options {
  municipality: string;
  from?: string;
  to?: string;
  interval?: string;
  by?: string;
  silentMinutes?: string;
  format: 'table' | 'csv' | 'json';
  state?: string;
  severity?: string;
}

const cfg = loadConfig(kpiApiEnv);
const devices = (await openDeviceRegistry(process.env, { service: 'kpi-cli', log: createLogger('kpi', process.env.LOG_LEVEL ?? 'warn'), dataDir: cfg.DATA_DIR })).engine;
const store = openStore(process.env, { service: 'kpi-api', embedded: { dataDir: cfg.DATA_DIR } }).engine;
const kpis = new Kpis(store, () => devices.list().filter((d) => !d.revokedAt));

/** The same zod schemas as the API: one clear line on a bad value. */
function parse<T extends z.ZodType>(schema: T, input: Record<string, unknown>): z.output<T> {
  const r = schema.safeParse(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidArgumentError(`--${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

function print(title: string, rows: object[], format: Options['format']) {
  if (format === 'json') return console.log(JSON.stringify(rows, null, 2));
  if (format === 'csv') return process.stdout.write(toCsv(rows));
  console.log(title);
  if (rows.length === 0) return console.log('(no data in this range)');
  const head = Object.keys(rows[0]!);
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) table.push(head.map((h) => String((r as Record<string, string | number | boolean | null>)[h] ?? '–')));
  console.log(table.toString());
}

const program = new Command('kpi').description("a municipality's KPIs as a table");
const common = (c: Command) =>
  c
    .requiredOption('--municipality <m>', 'municipality id, e.g. kalamata')
    .option('--from <time>', 'ISO-8601 or epoch ms (default: 7 days before --to)')
    .option('--to <time>', 'ISO-8601 or epoch ms (default: now)')
    .option('--format <f>', 'table | csv | json', 'table');

common(program.command('energy').description('kWh and peak demand per building/district/municipality per day/week/month'))
  .option('--interval <i>', 'day | week | month', 'day')
  .option('--by <g>', 'building | district | municipality', 'building')
  .action(async (o: Options) => {
    const q = parse(energyQuery, { from: o.from, to: o.to, interval: o.interval, by: o.by });
    print(`Energy — ${o.municipality}, ${new Date(q.from).toISOString()} → ${new Date(q.to).toISOString()}`, await kpis.energy({ ...q, municipality: o.municipality }), o.format);
  });

common(program.command('mobility').description('fleet per vehicle and parking per lot')).action(async (o: Options) => {
  const q = { ...parse(rangeQuery, { from: o.from, to: o.to }), municipality: o.municipality };
  const span = `${o.municipality}, ${new Date(q.from).toISOString()} → ${new Date(q.to).toISOString()}`;
  print(`Fleet — ${span}`, await kpis.fleet(q), o.format);
  print(`Parking — ${span}`, await kpis.parking(q), o.format);
});

program
  .command('health')
  .description('last reading per device; silent devices')
  .requiredOption('--municipality <m>', 'municipality id')
  .option('--silent-minutes <n>', 'silent after this many minutes without a reading', '15')
  .option('--format <f>', 'table | csv | json', 'table')
  .action(async (o: Options) => {
    const q = parse(healthQuery, { silentMinutes: o.silentMinutes });
    print(`Device health — ${o.municipality}`, await kpis.health({ municipality: o.municipality, now: Date.now(), silentAfterMs: q.silentMinutes * 60_000, lookbackMs: q.lookbackDays * 86_400_000 }), o.format);
  });

// `npm run alarms -- list|ack|comment`: the same commands as `npm run kpi -- alarms …`.
const notes = new AlarmNotes(defaultAlarmNotesPath(cfg.DATA_DIR));
const alarms = program.command('alarms').description("a municipality's alarms");
common(alarms.command('list').description('alarms raised in the range: open ones first (raised, then acknowledged), then the newest'))
  .option('--state <s>', 'raised | acknowledged | cleared (default: all)')
  .option('--severity <s>', 'critical | major | minor | warning')
  .action(async (o: Options) => {
    const q = { ...parse(alarmsQuery, { from: o.from, to: o.to, state: o.state, severity: o.severity }), municipality: o.municipality };
    const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());
    const rows = listAlarms(await kpis.alarms(q), notes, q.state).map((a) => ({ state: a.state, severity: a.severity, rule: a.ruleId, subject: a.subject, raised_at: iso(a.raisedAt), cleared_at: iso(a.clearedAt), acknowledged_by: a.note?.acknowledgedBy ?? '', alarm: a.alarmId }));
    print(`Alarms — ${o.municipality}, raised ${iso(q.from)} → ${iso(q.to)}`, rows, o.format);
  });

/** The operator's alarm of that municipality (raised within the last 400 days), or a clear error. */
async function ownAlarm(municipality: string, alarmId: string) {
  const found = (await kpis.alarms({ municipality, from: Date.now() - MAX_RANGE_DAYS * 86_400_000, to: Date.now() + 86_400_000 })).find((a) => a.alarmId === alarmId);
  if (!found) throw new InvalidArgumentError(`--alarm: no alarm '${alarmId}' in municipality '${municipality}'`);
  return found;
}
const operator = `cli:${userInfo().username}`;

alarms
  .command('ack')
  .description('acknowledges an open alarm (the first acknowledgement is kept)')
  .requiredOption('--municipality <m>', 'municipality id')
  .requiredOption('--alarm <id>', 'the alarm id (npm run alarms -- list)')
  .option('--comment <text>', 'a comment with it')
  .action(async (o: { municipality: string; alarm: string; comment?: string }) => {
    await ownAlarm(o.municipality, o.alarm);
    const n = notes.acknowledge(o.municipality, o.alarm, operator, new Date(), parse(acknowledgeBody.unwrap(), { comment: o.comment }).comment);
    console.log(`acknowledged ${o.alarm} (${n.acknowledgedBy}, ${n.acknowledgedAt})`);
  });

alarms
  .command('comment')
  .description("adds an operator's comment to an alarm")
  .requiredOption('--municipality <m>', 'municipality id')
  .requiredOption('--alarm <id>', 'the alarm id')
  .requiredOption('--text <text>', 'the comment')
  .action(async (o: { municipality: string; alarm: string; text: string }) => {
    await ownAlarm(o.municipality, o.alarm);
    const n = notes.comment(o.municipality, o.alarm, operator, new Date(), parse(commentBody, { text: o.text }).text);
    console.log(`${o.alarm}: ${n.comments.length} comment(s)`);
  });

program
  .parseAsync()
  .then(() => devices.close())
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
