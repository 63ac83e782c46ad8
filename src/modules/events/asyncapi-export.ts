/**
 * Writes (`--write`) or verifies (`--check`) asyncapi.yaml from the event catalogue's schemas
 * (event-data.ts), so the document can never drift from the code.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderAsyncApi } from './asyncapi.js';

const target = fileURLToPath(new URL('../../../asyncapi.yaml', import.meta.url));

const mode = process.argv[2];
const yaml = renderAsyncApi();
if (mode === '--write') {
  await writeFile(target, yaml);
  console.log(`wrote ${target}`);
} else if (mode === '--check') {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== yaml) {
    console.error(
      'asyncapi.yaml is out of date with the event schemas: run `npm run asyncapi` and commit the result.',
    );
    process.exit(1);
  }
  console.log('asyncapi.yaml matches the event schemas');
} else {
  process.stdout.write(yaml);
}
