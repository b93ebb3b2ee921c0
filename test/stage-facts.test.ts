/**
 * A stage's facts live in its catalogue entry only. A throwaway stage added through one entry is
 * found wherever stages are wired — its bus ACLs and Kafka principal, its store token, its
 * documented settings, `npm start`'s threads and status line, the monitor's targets, the
 * benchmark's list, and the compose check (which names it as missing from docker-compose.yml) —
 * and no source file outside the catalogue keeps a hand-written list of stage names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { busGrants, busNames } from '#shared/kafka/acls.ts';
import { defineStage } from '#shared/stages/stage.ts';
import { workerEnv } from '#shared/stages/worker.ts';
import { pipelineServices } from '../bench/launch.ts';
import { CATALOGUE } from '../services/catalogue.ts';
import { defaultTargets } from '../services/monitor/stage.ts';
import { stagesOnThread } from '../services/npm-start/node.ts';
import { sampleStatus } from '../services/npm-start/status.ts';
import { busParties, storeAccess } from '../services/rights.ts';
import { documentedSettings } from '../services/settings-docs.ts';
import { composeProblems, type ComposeFile } from './support/compose-check.ts';

const root = resolve(import.meta.dirname, '..');

/** An alerts stage as someone might add one: reads normalised messages, dead-letters, reads aggregates. */
const alerts = defineStage({
  name: 'alerts-probe',
  env: workerEnv(9199, 'alerts-probe'),
  singleNode: true,
  thread: 'log',
  carriesReadings: true,
  rights: { consumes: ['normalized'], produces: ['deadletter'], store: { read: ['aggregates'], write: [] } },
  deadLetterStage: 'alert',
  status: { deadLetters: 'alerts_probe_deadletters_total' },
  start: () => Promise.reject(new Error('never started here')),
});
const stages = [...CATALOGUE, alerts] as unknown as typeof CATALOGUE;

describe('a stage added through one catalogue entry', () => {
  it('gets its bus rights, and only those, as its own principal', () => {
    const grants = busGrants(busNames({ TOPIC_RAW: 'r', TOPIC_NORMALIZED: 'n', TOPIC_DEADLETTER: 'd' }), busParties(stages));
    expect(grants['alerts-probe']!.filter((g) => g.operation !== 'DESCRIBE')).toEqual([
      { resource: 'topic', name: 'n', operation: 'READ' },
      { resource: 'group', name: 'alerts-probe', operation: 'READ' },
      { resource: 'topic', name: 'd', operation: 'WRITE' },
    ]);
  });

  it('gets a store token of its own with its rights', () => {
    expect(storeAccess(stages)['alerts-probe']).toEqual({ read: ['aggregates'], write: [] });
  });

  it('has its settings documented in its README', () => {
    expect(documentedSettings(stages).find((d) => d.id === 'alerts-probe')).toMatchObject({ readme: 'services/alerts-probe/README.md', shape: alerts.env });
  });

  it("runs on npm start's log thread, and its dead letters count in the status line", async () => {
    expect(stagesOnThread(stages, 'log').map((s) => s.name)).toContain('alerts-probe');
    expect(stagesOnThread(stages, 'front').map((s) => s.name)).not.toContain('alerts-probe');
    const metrics = async (stage: string) => (stage === 'alerts-probe' ? 'alerts_probe_deadletters_total 7\n' : '');
    expect((await sampleStatus(stages, metrics)).deadLetters).toBe(7);
  });

  it("is among the monitor's default targets and the benchmark's services", () => {
    expect(defaultTargets(stages)).toContainEqual({ service: 'alerts-probe', url: 'http://127.0.0.1:9199/metrics' });
    expect(pipelineServices(stages)).toContain('alerts-probe');
  });

  it('is named as missing from docker-compose.yml until it is added there', () => {
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
    expect(composeProblems(compose, CATALOGUE)).toEqual([]);
    expect(composeProblems(compose, stages)).toEqual(['alerts-probe: no compose service']);
  });
});

/** Source files outside the tests and the catalogue (a stage's own folder may name itself). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.test-thread.ts') ? [p] : [];
  });
}

/** Array or object literals (one level, comments removed) naming two or more stages. */
function stageLists(text: string, names: readonly string[]): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const name = `(?:${names.map((n) => n.replace(/-/g, '\\-')).join('|')})`;
  const quoted = new RegExp(`['"]${name}['"]`, 'g');
  const key = new RegExp(`(?:^|[{,\\s])['"]?${name}['"]?\\s*:`, 'g');
  return [...code.matchAll(/\[[^[\]]*\]|\{[^{}]*\}/g)].map((m) => m[0]).filter((lit) => new Set([...(lit.match(quoted) ?? []), ...(lit.match(key) ?? []).map((k) => k.replace(/[\s{,:'"]/g, ''))].map((n) => n.replace(/['"]/g, ''))).size >= 2);
}

describe('dead letters', () => {
  it('each stage that produces them says what they carry as their stage, a name no other stage uses', () => {
    const producing = CATALOGUE.filter((s) => s.rights.produces?.includes('deadletter'));
    expect(producing.length).toBeGreaterThanOrEqual(4);
    expect(producing.filter((s) => !s.deadLetterStage).map((s) => s.name)).toEqual([]);
    expect(new Set(producing.map((s) => s.deadLetterStage)).size).toBe(producing.length);
  });
});

describe('stage names', () => {
  const names = CATALOGUE.map((s) => s.name);

  it('finds a hand-written list when there is one (the check is not blind)', () => {
    expect(stageLists("const LOG_WORKERS = new Set(['normalizer', 'writer', 'aggregator']);", names)).toHaveLength(1);
    expect(stageLists("const PORTS = { gateway: '19201', normalizer: '19202' };", names)).toHaveLength(1);
    expect(stageLists("// ['normalizer', 'writer'] in a comment\nconst x = ['writer'];", names)).toEqual([]);
  });

  it('are listed nowhere outside the catalogue', () => {
    const files = ['services', 'shared', 'engines', 'bench', 'simulators', 'deploy'].flatMap((d) => sources(join(root, d))).concat(join(root, 'start.ts'));
    // A stage's own folder may name itself (its consumer group's default, its metrics' prefix).
    const namesFor = (f: string) => names.filter((n) => !relative(root, f).startsWith(join('services', n) + '/'));
    const found = files.filter((f) => !f.endsWith(join('services', 'catalogue.ts'))).flatMap((f) => stageLists(readFileSync(f, 'utf8'), namesFor(f)).map((l) => `${relative(root, f)}: ${l.replace(/\s+/g, ' ').slice(0, 120)}`));
    expect(found).toEqual([]);
  });
});
