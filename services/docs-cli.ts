/** `npm run docs`: rewrites the generated settings tables of the READMEs from the config schemas, and the other generated parts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { DOCUMENTED_SETTINGS, GENERATED_BLOCKS } from './settings-docs.ts';
import { replaceBetween, replaceSettingsTable } from '#shared/docs/settings-table.ts';

for (const { readme, id, shape } of DOCUMENTED_SETTINGS) {
  const before = readFileSync(readme, 'utf8');
  const after = replaceSettingsTable(before, id, shape);
  if (after !== before) writeFileSync(readme, after);
  console.log(`${readme}: ${after === before ? 'up to date' : 'rewritten'}`);
}

for (const { file, begin, end, content } of GENERATED_BLOCKS) {
  const before = readFileSync(file, 'utf8');
  const after = replaceBetween(before, begin, end, content());
  if (after !== before) writeFileSync(file, after);
  console.log(`${file}: generated part ${after === before ? 'up to date' : 'rewritten'}`);
}
