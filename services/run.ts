/** `npm run service -- NAME`: one service configured from the environment (what a container runs). */
const SERVICES = ['gateway', 'normalizer', 'writer', 'aggregator', 'kpi-api', 'monitor'] as const;
const name = process.argv[2];

if (!name || !(SERVICES as readonly string[]).includes(name)) {
  process.stderr.write(`usage: npm run service -- <${SERVICES.join('|')}>\n`);
  process.exit(2);
}
try {
  await import(`./${name}/main.ts`);
} catch (err) {
  if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(`${name}/main.ts`)) {
    process.stderr.write(`service '${name}' is not implemented yet\n`);
    process.exit(2);
  }
  throw err;
}
