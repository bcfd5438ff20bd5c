/**
 * Registers our search attributes on a namespace that lacks them (a server started by someone
 * else, a fresh self-hosted namespace). Idempotent. On Temporal Cloud, create them in the UI or
 * with `tcld` instead: the operator API is not open to namespace clients there.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { searchAttributeKeys } from '../contract/search-attributes.js';

const indexedValueType = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

/** Adds the missing search attributes; returns the names it added. */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const operator = client.connection.operatorService;
  const existing = await operator.listSearchAttributes({ namespace });
  const known = new Set([
    ...Object.keys(existing.customAttributes ?? {}),
    ...Object.keys(existing.systemAttributes ?? {}),
  ]);
  const missing = searchAttributeKeys.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  await operator.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType[key.type]])),
  });
  return missing.map((key) => key.name);
}
