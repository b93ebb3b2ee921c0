/** `npm run docs`: rewrites the generated settings tables of the READMEs from the config schemas. */
import { readFileSync, writeFileSync } from 'node:fs';
import { DOCUMENTED_SETTINGS } from './settings-docs.ts';
import { replaceSettingsTable } from '#shared/docs/settings-table.ts';

for (const { readme, id, shape } of DOCUMENTED_SETTINGS) {
  const before = readFileSync(readme, 'utf8');
  const after = replaceSettingsTable(before, id, shape);
  if (after !== before) writeFileSync(readme, after);
  console.log(`${readme}: ${after === before ? 'up to date' : 'rewritten'}`);
}
