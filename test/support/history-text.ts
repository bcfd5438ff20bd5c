/**
 * The whole text of a workflow history, payload bytes included, for "this secret appears nowhere"
 * checks. JSON.stringify of a history prints payload bytes as base64, so a secret inside a
 * payload would go unnoticed; here the objects are walked and every byte array is decoded.
 */
import type { WorkflowHandle } from '@temporalio/client';

function collect(value: unknown, out: string[], seen: Set<object>): void {
  if (value === null || value === undefined) return;
  if (value instanceof Uint8Array) {
    out.push(Buffer.from(value).toString('latin1'));
    return;
  }
  if (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
  ) {
    out.push(String(value));
    return;
  }
  if (typeof value !== 'object') return;
  if (seen.has(value)) return;
  seen.add(value);
  for (const [key, child] of Object.entries(value)) {
    out.push(key);
    collect(child, out, seen);
  }
}

export async function historyText(handle: WorkflowHandle): Promise<string> {
  const out: string[] = [];
  collect(await handle.fetchHistory(), out, new Set());
  return out.join('\n');
}
