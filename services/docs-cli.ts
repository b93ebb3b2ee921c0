/** `npm run docs`: rewrites every generated part of the docs (settings tables, the data inventory) from the code. */
import { readFileSync, writeFileSync } from 'node:fs';
import { DOC_PARTS } from './settings-docs.ts';

for (const { file, what, rewrite } of DOC_PARTS) {
  const before = readFileSync(file, 'utf8');
  const after = rewrite(before);
  if (after !== before) writeFileSync(file, after);
  console.log(`${file} (${what}): ${after === before ? 'up to date' : 'rewritten'}`);
}
