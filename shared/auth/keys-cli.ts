/**
 * `npm run keys -- add --municipality M [--admin] | list | revoke --id ID`: KPI API keys.
 * `add` prints the new key once, as the last line of stdout.
 */
import { Command, InvalidArgumentError } from 'commander';
import { identSchema } from '../schemas/topics.ts';
import { ApiKeyError, ApiKeyStore, defaultApiKeysPath } from './api-keys.ts';

const ident = (v: string) => {
  if (!identSchema.safeParse(v).success) throw new InvalidArgumentError('municipality must be lower-case [a-z0-9-]');
  return v;
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
  .action((o: { municipality?: string; admin: boolean; label?: string }) => {
    const { key, record } = store().add({ municipality: o.municipality ?? null, admin: o.admin, label: o.label });
    console.log(`issued key ${record.id} (${record.admin ? 'admin' : record.municipality}); it is shown once, below:`);
    console.log(key);
  });

program
  .command('list')
  .description('list keys (never the keys themselves)')
  .action(() => {
    console.log(['ID', 'MUNICIPALITY', 'ADMIN', 'STATUS', 'CREATED', 'LABEL'].join('\t'));
    for (const k of store().list()) console.log([k.id, k.municipality ?? '*', k.admin ? 'yes' : 'no', k.revokedAt ? 'revoked' : 'active', k.createdAt, k.label ?? ''].join('\t'));
  });

program
  .command('revoke')
  .description('revoke a key; a running KPI API refuses it on its next request')
  .requiredOption('--id <id>', 'key id as listed')
  .action((o: { id: string }) => {
    store().revoke(o.id);
    console.log(`revoked ${o.id}`);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof ApiKeyError ? err.message : err instanceof Error ? err.message : String(err));
  process.exit(1);
});
