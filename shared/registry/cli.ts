/**
 * `npm run devices -- add|list|revoke|rotate|cert|server-cert`: the device registry CLI
 * (docs/architecture.md). `add` prints the new secret once, as the last line of stdout; `cert`
 * issues a device certificate from the local CA beside the registry.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { identSchema, kindSchema } from '../schemas/topics.ts';
import { DeviceRegistry, RegistryError, defaultRegistryPath, deviceAttributesSchema } from './device-registry.ts';
import { dirname, join } from 'node:path';
import { issueCertificate, openLocalCa, writeIssued } from './certificates.ts';
import { openDeviceRegistry } from '../engines.ts';
import { pino } from 'pino';
import { createLogger } from '../logging.ts';

const importFileSchema = z.object({
  devices: z.array(z.object({ municipality: identSchema, kind: kindSchema, id: identSchema, attributes: deviceAttributesSchema.default({}) })),
});

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
  .description('device registry (secrets stored as salted scrypt hashes): the central one with DEVICE_REGISTRY_TOPIC (as `npm run services -- status` prints), else a file')
  .option('--registry <file>', `a registry file (default: DEVICE_REGISTRY, else the central registry with DEVICE_REGISTRY_TOPIC, else ${defaultRegistryPath()})`);

const dataDir = process.env.DATA_DIR ?? 'data';
let opened: DeviceRegistry | undefined;
/** The registry this command changes, opened once (the central one is read whole first). */
const registry = async (): Promise<DeviceRegistry> => {
  const file = program.opts<{ registry?: string }>().registry;
  opened ??= file ? new DeviceRegistry(file) : (await openDeviceRegistry(process.env, { service: 'devices-cli', log: createLogger('devices', process.env.LOG_LEVEL ?? 'warn', pino.destination(2)), dataDir, create: true })).engine;
  return opened;
};
/** A folder next to the registry file (the local CA, issued certificates); the data directory's with the central registry. */
const besideRegistry = (name: string) => {
  const file = program.opts<{ registry?: string }>().registry ?? (process.env.DEVICE_REGISTRY || (process.env.DEVICE_REGISTRY_TOPIC ? undefined : defaultRegistryPath()));
  return join(file ? dirname(file) : dataDir, name);
};

program
  .command('add')
  .description('register a device; prints its secret once (last line)')
  .requiredOption('--municipality <m>', 'municipality id, e.g. kalamata', ident('municipality'))
  .requiredOption('--kind <k>', 'energy | fleet | parking', kind)
  .requiredOption('--id <d>', 'device id (the MQTT username)', ident('id'))
  .option('--attr <key=value>', 'attribute for enrichment (district, building, lot, vehicleType, capacity…); repeatable', attr, {})
  .option('--dev-eui <EUI>', 'the LoRaWAN DevEUI (16 hex digits), for uplinks through ChirpStack or The Things Stack')
  .action(async (o: { municipality: string; kind: 'energy' | 'fleet' | 'parking'; id: string; attr: Record<string, string | number>; devEui?: string }) => {
    const secret = await (await registry()).add({ municipality: o.municipality, kind: o.kind, deviceId: o.id }, o.attr, { devEui: o.devEui });
    console.log(`registered ${o.id} (${o.municipality}/${o.kind}); its secret is shown once, below:`);
    console.log(secret);
  });

program
  .command('cert')
  .description("issue the device an X.509 key and certificate from the local CA (made on first use); the device's previous certificate stops working")
  .requiredOption('--id <d>', 'device id (the certificate\'s CN)', ident('id'))
  .option('--ca-dir <dir>', 'the local CA (ca.crt, ca.key); default: ca/ beside the registry')
  .option('--out <dir>', 'where <id>.crt and <id>.key go; default: certs/ beside the registry')
  .option('--days <n>', 'validity in days', Number, 825)
  .action(async (o: { id: string; caDir?: string; out?: string; days: number }) => {
    const reg = await registry();
    if (!reg.active(o.id)) throw new RegistryError(`no active device '${o.id}'`);
    const ca = await openLocalCa(o.caDir ?? besideRegistry('ca'));
    const issued = await issueCertificate(ca, { device: o.id, days: o.days });
    await reg.setCertificate(o.id, issued.fingerprint256);
    const files = writeIssued(o.out ?? besideRegistry('certs'), o.id, issued);
    console.log(`certificate for ${o.id} (CN=${o.id}, valid ${o.days} days; any earlier one is retired)`);
    console.log(`  certificate ${files.cert}\n  key         ${files.key}\n  CA          ${ca.certPath}  (the gateway trusts it with MQTT_TLS_CA)`);
  });

program
  .command('server-cert')
  .description("issue the gateway's TLS listener a key and certificate from the local CA (for MQTT_TLS_CERT / MQTT_TLS_KEY)")
  .requiredOption('--host <name...>', 'the names or addresses devices reach the gateway by')
  .option('--ca-dir <dir>', 'the local CA (ca.crt, ca.key); default: ca/ beside the registry')
  .option('--out <dir>', 'where gateway.crt and gateway.key go; default: certs/ beside the registry')
  .option('--days <n>', 'validity in days', Number, 825)
  .action(async (o: { host: string[]; caDir?: string; out?: string; days: number }) => {
    const ca = await openLocalCa(o.caDir ?? besideRegistry('ca'));
    const files = writeIssued(o.out ?? besideRegistry('certs'), 'gateway', await issueCertificate(ca, { serverNames: o.host, days: o.days }));
    console.log(`MQTT_TLS_CERT=${files.cert}\nMQTT_TLS_KEY=${files.key}\nMQTT_TLS_CA=${ca.certPath}`);
  });

program
  .command('rotate')
  .description('issue a new secret for a device (the old one stops working); prints it once (last line)')
  .requiredOption('--id <d>', 'device id', ident('id'))
  .action(async (o: { id: string }) => {
    const secret = await (await registry()).rotate(o.id);
    console.log(`new secret for ${o.id}, shown once, below:`);
    console.log(secret);
  });

program
  .command('list')
  .description('list devices (never secrets)')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const rows = (await registry())
      .list()
      .map(({ secretHash: _hidden, ...rest }) => rest);
    if (o.json) return console.log(JSON.stringify(rows, null, 2));
    console.log(['ID', 'MUNICIPALITY', 'KIND', 'STATUS', 'CREATED', 'DEVEUI'].join('\t'));
    for (const d of rows) console.log([d.id, d.municipality, d.kind, d.revokedAt ? 'revoked' : 'active', d.createdAt, d.devEui ?? ''].join('\t'));
  });

program
  .command('import')
  .description('register the devices of a JSON file (deploy/registry/sample-devices.json shows the shape); existing ones are left alone')
  .requiredOption('--file <file>', 'JSON: { "devices": [{ "municipality", "kind", "id", "attributes" }] }')
  .option('--secrets-out <file>', 'write the new secrets there as JSON (mode 600) instead of printing them')
  .action(async (o: { file: string; secretsOut?: string }) => {
    const entries = importFileSchema.parse(JSON.parse(readFileSync(o.file, 'utf8'))).devices;
    const reg = await registry();
    const fresh = entries.filter((e) => !reg.active(e.id));
    const secrets = await reg.provision(fresh.map((e) => ({ address: { municipality: e.municipality, kind: e.kind, deviceId: e.id }, attributes: e.attributes })));
    console.log(`registered ${fresh.length} devices, ${entries.length - fresh.length} already registered and left alone`);
    if (o.secretsOut) {
      writeFileSync(o.secretsOut, `${JSON.stringify(Object.fromEntries(secrets), null, 2)}\n`, { mode: 0o600 });
      console.log(`their secrets are in ${o.secretsOut} (shown nowhere else)`);
    } else for (const [id, secret] of secrets) console.log(`${id} ${secret}`);
  });

program
  .command('revoke')
  .description('revoke a device; a running gateway refuses it and disconnects it within a second')
  .requiredOption('--id <d>', 'device id', ident('id'))
  .action(async (o: { id: string }) => {
    await (await registry()).revoke(o.id);
    console.log(`revoked ${o.id}`);
  });

program
  .parseAsync()
  .then(() => opened?.close())
  .catch((err: unknown) => {
    if (err instanceof z.ZodError) console.error(`invalid device file at ${err.issues[0]?.path.join('.')}: ${err.issues[0]?.message}`);
    else console.error(err instanceof RegistryError ? err.message : err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
