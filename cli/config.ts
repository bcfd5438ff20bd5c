/**
 * Reads a run config — a `TrainingRunInput` as JSON, or a module whose default export is one
 * (`train.ts` / `.mts` / `.js` / `.mjs`, typically `export default defineTrainingRun({...})`) — and
 * validates it with the input schema, so a bad file is rejected before anything connects or starts.
 * A `$schema` key (for editors) is accepted and dropped; an unknown field's error suggests the
 * closest known one.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InvalidTrainingInputError, parseTrainingRunInput, type TrainingRunInput } from '../contract/input.js';
import { importUserModule, TypeScriptLoaderMissingError } from '../extensions/load-module.js';
import { ConfigError } from './errors.js';
import { knownFieldsAt, trainingRunJsonSchema, type JsonSchemaNode } from './schema.js';
import { closestMatch } from './suggest.js';
import { errorMessage } from '../contract/errors.js';

/** Config modules (a default export, `defineTrainingRun({...})`); anything else is JSON. */
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** Reads and validates the config at `path`. Throws `ConfigError` naming each bad field. */
export async function loadRunConfig(path: string): Promise<TrainingRunInput> {
  const extension = extname(path).toLowerCase();
  if (MODULE_EXTENSIONS.has(extension)) {
    return validateRunConfig(await importConfigModule(path), path);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}${errorCode(error)}`);
  }
  return parseRunConfig(text, path);
}

/** Parses and validates config text; `source` names it in messages. Throws `ConfigError`. */
export function parseRunConfig(text: string, source: string): TrainingRunInput {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config ${source} is not valid JSON: ${errorMessage(error)}`);
  }
  return validateRunConfig(json, source);
}

/** Validates a loaded config (JSON value or module export). Throws `ConfigError`. */
export function validateRunConfig(value: unknown, source: string): TrainingRunInput {
  const input = withoutSchemaKey(value);
  try {
    parseTrainingRunInput(input);
  } catch (error) {
    if (error instanceof InvalidTrainingInputError) {
      throw new ConfigError(`config ${source} is invalid`, error.issues.map(suggestField));
    }
    throw error;
  }
  // The service validates again and the workflow fills in defaults: pass what the user wrote.
  return input as TrainingRunInput;
}

/** The config without its top-level `$schema` string (editors' key; not part of the input). */
function withoutSchemaKey(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('$schema' in value)) return value;
  const { $schema, ...rest } = value as Record<string, unknown>;
  // Anything but a string there is a mistake worth reporting as such.
  return typeof $schema === 'string' ? rest : value;
}

let schema: JsonSchemaNode | undefined;

/** `a.b.typo: unknown field` → `a.b.typo: unknown field (did you mean "type"?)` when one is close. */
function suggestField(issue: string): string {
  const match = /^(.+): unknown field$/.exec(issue);
  if (!match?.[1]) return issue;
  const path = match[1].split('.');
  const field = path.pop();
  if (field === undefined) return issue;
  schema ??= trainingRunJsonSchema();
  const suggestion = closestMatch(field, knownFieldsAt(schema, path));
  return suggestion === undefined ? issue : `${issue} (did you mean "${suggestion}"?)`;
}

/**
 * The default export of a config module. A TypeScript module is loaded through tsx's API, so it
 * also loads when the CLI itself runs as compiled JavaScript.
 */
async function importConfigModule(path: string): Promise<unknown> {
  let loaded: Record<string, unknown>;
  try {
    loaded = await importUserModule(path);
  } catch (error) {
    if (error instanceof TypeScriptLoaderMissingError) throw new ConfigError(`cannot load config ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && !(await exists(path)))
      throw new ConfigError(`cannot read config ${path} (ENOENT)`);
    throw new ConfigError(`cannot load config ${path}: ${errorMessage(error)}`);
  }
  let value = loaded.default;
  // A module compiled as CommonJS (a .ts file outside an ESM package) nests its default export.
  if (typeof value === 'object' && value !== null && 'default' in value && !('trainer' in value)) {
    value = value.default;
  }
  if (value === undefined) {
    throw new ConfigError(`config ${path} has no default export: write \`export default defineTrainingRun({ ... })\``);
  }
  return value;
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? ` (${code})` : '';
}
