/**
 * The JSON Schema of a run config, generated from the zod schema the client and the workflow
 * validate with (`contract/input.ts`), for editors (`"$schema"` in a config file) and for
 * "did you mean" hints on unknown fields. `schema/training-run.schema.json` is its committed copy
 * (`npm run schema` rewrites it; a test checks it is current).
 */
import { z } from 'zod';
import { trainingRunInputSchema } from '../contract/input.js';

/** Where the committed copy lives, relative to the repository root. */
export const SCHEMA_FILE = 'schema/training-run.schema.json';

/** A JSON Schema node, as far as this module reads one. */
export interface JsonSchemaNode {
  type?: string | string[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  additionalProperties?: boolean | JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  allOf?: JsonSchemaNode[];
  [key: string]: unknown;
}

/**
 * The schema of a config file: what a caller may write (defaults optional), plus the `$schema`
 * key editors use, minus the internal `resume` state a run hands to its continuation.
 */
export function trainingRunJsonSchema(): JsonSchemaNode {
  const generated = z.toJSONSchema(trainingRunInputSchema, {
    io: 'input',
    // The internal `resume` state holds a custom type; it is dropped below anyway.
    unrepresentable: 'any',
  }) as JsonSchemaNode;
  const { $schema, properties = {}, ...rest } = generated;
  const { resume: _internal, ...fields } = properties;
  return {
    $schema,
    title: 'arkor-temporal training run',
    description:
      'The config of one training run (TrainingRunInput): `trainer` holds the Arkor trainer settings; ' +
      'the other sections are what arkor-temporal adds around the job. See README.md, "A run\'s input".',
    type: rest.type,
    properties: {
      $schema: { type: 'string', description: 'The JSON Schema this file follows (for editors); ignored.' },
      ...fields,
    },
    ...rest,
  };
}

/** The schema as written to the committed file and printed by `arkor-temporal schema`. */
export function trainingRunJsonSchemaText(): string {
  return `${JSON.stringify(trainingRunJsonSchema(), null, 2)}\n`;
}

/**
 * The field names an object at `path` (in a config) may have, from the schema: the union over
 * every branch when the schema has alternatives there. Empty when the path is not an object.
 */
export function knownFieldsAt(schema: JsonSchemaNode, path: readonly string[]): string[] {
  let nodes = [schema];
  for (const key of path) {
    nodes = nodes.flatMap(branches).flatMap((node) => {
      if (/^\d+$/.test(key) && node.items) return [node.items];
      const property = node.properties?.[key];
      if (property) return [property];
      return typeof node.additionalProperties === 'object' ? [node.additionalProperties] : [];
    });
  }
  return [...new Set(nodes.flatMap(branches).flatMap((node) => Object.keys(node.properties ?? {})))];
}

/** A node and its alternatives (anyOf / oneOf / allOf), flattened. */
function branches(node: JsonSchemaNode): JsonSchemaNode[] {
  const nested = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return [node, ...nested.flatMap(branches)];
}
