/**
 * `npm run schema`: writes schema/training-run.schema.json, the JSON Schema of a run config
 * (cli/schema.ts, generated from the zod schema in contract/input.ts). Run it after changing the
 * input schema; test/cli-schema.test.ts fails while the committed file is out of date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMA_FILE, trainingRunJsonSchemaText } from '../cli/schema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, SCHEMA_FILE);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, trainingRunJsonSchemaText());
console.log(`wrote ${SCHEMA_FILE}`);
