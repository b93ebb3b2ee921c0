/**
 * `npm run keys -- add --municipality M [--admin] [--scope S…] | list | revoke --id ID`: KPI API keys;
 * `rotate-pseudonyms --municipality M`: new pseudonyms for its vehicles.
 * `add` prints the new key once, as the last line of stdout.
 */
import { Command, InvalidArgumentError } from 'commander';
import { identSchema } from '../schemas/topics.ts';
import { dirname } from 'node:path';
import { defaultPseudonymKeysPath, VehiclePseudonyms } from '../privacy/pseudonyms.ts';
import { ApiKeyError, ApiKeyStore, defaultApiKeysPath, KEY_SCOPES, type KeyScope } from './api-keys.ts';

const ident = (v: string) => {
  if (!identSchema.safeParse(v).success) throw new InvalidArgumentError('municipality must be lower-case [a-z0-9-]');
  return v;
};
const scope = (v: string, prev: KeyScope[]) => {
  if (!(KEY_SCOPES as readonly string[]).includes(v)) throw new InvalidArgumentError(`a scope is one of ${KEY_SCOPES.join(', ')}`);
  return [...prev, v as KeyScope];
};

const program = new Command('keys')
  .description('KPI API keys (stored as SHA-256 digests; a key is shown once)')
  .option('--file <file>', 'API key file', defaultApiKeysPath());
const store = () => new ApiKeyStore(program.opts<{ file: string }>().file);

program
  .command('add')
  .description("issue a key that reads one municipality's data (or, with --admin, every municipality's)")
  .option('--municipality <m>', 'the municipality the key reads, e.g. kalamata', ident)
  .option('--admin', 'a platform operator key: reads every municipality', false)
  .option('--label <text>', 'a note on who holds the key')
  .option('--scope <scope>', 'fleet-ops: vehicles under their real ids (else pseudonyms); data-protection: reads the audit of location reads; repeatable', scope, [])
  .action((o: { municipality?: string; admin: boolean; label?: string; scope: KeyScope[] }) => {
    const { key, record } = store().add({ municipality: o.municipality ?? null, admin: o.admin, label: o.label, scopes: o.scope });
    console.log(`issued key ${record.id} (${record.admin ? 'admin' : record.municipality}${record.scopes.length ? `; ${record.scopes.join(', ')}` : ''}); it is shown once, below:`);
    console.log(key);
  });

program
  .command('list')
  .description('list keys (never the keys themselves)')
  .action(() => {
    console.log(['ID', 'MUNICIPALITY', 'ADMIN', 'SCOPES', 'STATUS', 'CREATED', 'LABEL'].join('\t'));
    for (const k of store().list()) console.log([k.id, k.municipality ?? '*', k.admin ? 'yes' : 'no', k.scopes.join(',') || '-', k.revokedAt ? 'revoked' : 'active', k.createdAt, k.label ?? ''].join('\t'));
  });

program
  .command('revoke')
  .description('revoke a key; a running KPI API refuses it on its next request')
  .requiredOption('--id <id>', 'key id as listed')
  .action((o: { id: string }) => {
    store().revoke(o.id);
    console.log(`revoked ${o.id}`);
  });

program
  .command('rotate-pseudonyms')
  .description("a new secret for the municipality's vehicle pseudonyms: every vehicle gets a new one, unlinkable to the old")
  .requiredOption('--municipality <m>', 'the municipality, e.g. kalamata', ident)
  .action((o: { municipality: string }) => {
    // The pseudonyms' secrets live beside the API keys (the KPI API's data directory).
    new VehiclePseudonyms(defaultPseudonymKeysPath(dirname(program.opts<{ file: string }>().file))).rotate(o.municipality);
    console.log(`rotated the vehicle pseudonyms of ${o.municipality}; the KPI API answers with the new ones from its next request`);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof ApiKeyError ? err.message : err instanceof Error ? err.message : String(err));
  process.exit(1);
});
