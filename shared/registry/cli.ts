/**
 * `npm run devices -- add|list|revoke|rotate`: the device registry CLI (DESIGN.md).
 * `add` prints the new secret once, as the last line of stdout.
 */
import { Command, InvalidArgumentError } from 'commander';
import { identSchema, kindSchema } from '../schemas/topics.ts';
import { DeviceRegistry, RegistryError, defaultRegistryPath } from './device-registry.ts';

const ident = (what: string) => (v: string) => {
  if (!identSchema.safeParse(v).success) throw new InvalidArgumentError(`${what} must be lower-case [a-z0-9-]`);
  return v;
};
const kind = (v: string) => {
  const r = kindSchema.safeParse(v);
  if (!r.success) throw new InvalidArgumentError('kind must be energy, fleet or parking');
  return r.data;
};
const attr = (v: string, acc: Record<string, string | number>) => {
  const m = /^([a-z][a-zA-Z0-9_]*)=(.*)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected key=value');
  const num = Number(m[2]);
  acc[m[1]!] = m[2] !== '' && Number.isFinite(num) ? num : m[2]!;
  return acc;
};

const program = new Command('devices')
  .description('device registry (secrets stored as salted scrypt hashes)')
  .option('--registry <file>', 'registry file', defaultRegistryPath());

const registry = () => new DeviceRegistry(program.opts<{ registry: string }>().registry);

program
  .command('add')
  .description('register a device; prints its secret once (last line)')
  .requiredOption('--municipality <m>', 'municipality id, e.g. kalamata', ident('municipality'))
  .requiredOption('--kind <k>', 'energy | fleet | parking', kind)
  .requiredOption('--id <d>', 'device id (the MQTT username)', ident('id'))
  .option('--attr <key=value>', 'attribute for enrichment (district, building, lot, vehicleType, capacity…); repeatable', attr, {})
  .action(async (o: { municipality: string; kind: 'energy' | 'fleet' | 'parking'; id: string; attr: Record<string, string | number> }) => {
    const secret = await registry().add({ municipality: o.municipality, kind: o.kind, deviceId: o.id }, o.attr);
    console.log(`registered ${o.id} (${o.municipality}/${o.kind}); its secret is shown once, below:`);
    console.log(secret);
  });

program
  .command('rotate')
  .description('issue a new secret for a device (the old one stops working); prints it once (last line)')
  .requiredOption('--id <d>', 'device id', ident('id'))
  .action(async (o: { id: string }) => {
    const secret = await registry().rotate(o.id);
    console.log(`new secret for ${o.id}, shown once, below:`);
    console.log(secret);
  });

program
  .command('list')
  .description('list devices (never secrets)')
  .option('--json', 'print JSON')
  .action((o: { json?: boolean }) => {
    const rows = registry()
      .list()
      .map(({ secretHash: _hidden, ...rest }) => rest);
    if (o.json) return console.log(JSON.stringify(rows, null, 2));
    console.log(['ID', 'MUNICIPALITY', 'KIND', 'STATUS', 'CREATED'].join('\t'));
    for (const d of rows) console.log([d.id, d.municipality, d.kind, d.revokedAt ? 'revoked' : 'active', d.createdAt].join('\t'));
  });

program
  .command('revoke')
  .description('revoke a device; a running gateway refuses it and disconnects it within a second')
  .requiredOption('--id <d>', 'device id', ident('id'))
  .action((o: { id: string }) => {
    registry().revoke(o.id);
    console.log(`revoked ${o.id}`);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof RegistryError ? err.message : err instanceof Error ? err.message : String(err));
  process.exit(1);
});
