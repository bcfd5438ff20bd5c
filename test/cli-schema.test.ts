/**
 * The committed JSON Schema of a run config (schema/training-run.schema.json) is what
 * `npm run schema` generates from the zod schema, and describes the configs the CLI accepts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { knownFieldsAt, SCHEMA_FILE, trainingRunJsonSchema, trainingRunJsonSchemaText } from '../cli/schema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('the run config JSON Schema', () => {
  it('is committed up to date (run `npm run schema` after changing contract/input.ts)', () => {
    assert.equal(readFileSync(join(root, SCHEMA_FILE), 'utf8'), trainingRunJsonSchemaText());
  });

  it('is the input schema: required trainer, no unknown keys, "$schema" allowed, the internal resume left out', () => {
    const schema = trainingRunJsonSchema();
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(schema.required, ['trainer']);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties ?? {}).slice(0, 3), ['$schema', 'trainer', 'callbacks']);
    assert.ok(!('resume' in (schema.properties ?? {})));
    // Defaults may be omitted: the schema describes what a caller writes.
    assert.ok(!((schema.properties?.callbacks?.required as string[] | undefined) ?? []).includes('set'));
  });

  it('knows the fields at each path of a config, through unions and arrays', () => {
    const schema = trainingRunJsonSchema();
    assert.ok(knownFieldsAt(schema, []).includes('earlyStopping'));
    assert.ok(knownFieldsAt(schema, ['trainer']).includes('maxSteps'));
    assert.deepEqual(knownFieldsAt(schema, ['trainer', 'dataset']).sort(), [
      'name',
      'split',
      'subset',
      'tokenEnv',
      'type',
      'url',
    ]);
    assert.ok(knownFieldsAt(schema, ['smokeTest', 'prompts', '0', 'expect']).includes('contains'));
    assert.ok(knownFieldsAt(schema, ['callbacks', 'overrides', 'onLog', 'retry']).includes('maximumAttempts'));
    assert.deepEqual(knownFieldsAt(schema, ['labels', 'team']), []);
  });
});
