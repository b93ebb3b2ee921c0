/**
 * The docs name no setting that nothing reads: every `UPPER_CASE_NAME` in backticks in the README,
 * docs/ and the services' READMEs appears in the code or the deployment files (a schema, an
 * environment read, the compose file), so a renamed or removed setting cannot linger in the docs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const files = (dir: string, ext: RegExp): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.name === 'node_modules' || e.name.startsWith('.') ? [] : e.isDirectory() ? files(join(dir, e.name), ext) : ext.test(e.name) ? [join(dir, e.name)] : []));

const docs = ['README.md', ...files('docs', /\.md$/), ...files('services', /README\.md$/)];
const code = [...['services', 'shared', 'engines', 'simulators', 'bench', 'deploy', 'test'].flatMap((d) => files(d, /\.(ts|ya?ml|sh|json|properties|conf)$/)), 'start.ts', 'docker-compose.yml', 'Dockerfile', '.ci/run', 'package.json'];

/** Read by other software the docs tell how to use, not by this project: name → who reads it. */
const READ_ELSEWHERE: Record<string, string> = { CKJS_LINKING: "@confluentinc/kafka-javascript's build (a benchmark's method)" };

/** Names that look like settings: upper case with an underscore, in backticks (a `NAME=value` counts as NAME). */
const namedIn = (text: string) => new Set([...text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`/g)].map((m) => m[1]!));

describe('settings named in the docs', () => {
  it('are all read somewhere in the code or the deployment files', () => {
    const codeText = code.map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
    const unread = docs.flatMap((d) => [...namedIn(readFileSync(join(root, d), 'utf8'))].filter((n) => !Object.hasOwn(READ_ELSEWHERE, n) && !new RegExp(`\\b${n}\\b`).test(codeText)).map((n) => `${d}: ${n}`));
    expect(unread).toEqual([]);
  });

  it('finds the names it checks (the check is not blind)', () => {
    expect(namedIn('set `MQTT_PORT` or `KAFKA_BROKERS=127.0.0.1:9092`, not `npm`')).toEqual(new Set(['MQTT_PORT', 'KAFKA_BROKERS']));
  });
});
