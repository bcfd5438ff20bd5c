/** The replay corpus: every recorded history under `test/fixtures/histories`, in every folder. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RecordedHistory {
  /** Its path under the corpus folder, e.g. `0.1.0/stopped-rule.json`: the name tests report it by. */
  file: string;
  /**
   * The workflow id it was recorded under (what ids derived from it, a notification child's,
   * must match on replay); the file's name for histories whose server did not record it.
   */
  workflowId: string;
}

/** The recorded histories under `dir`, recursively, sorted by path. */
export function recordedHistories(dir: string): RecordedHistory[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, workflowId: recordedWorkflowId(join(dir, file)) ?? file }));
}

function recordedWorkflowId(path: string): string | undefined {
  const history = JSON.parse(readFileSync(path, 'utf8')) as {
    events?: Array<{ workflowExecutionStartedEventAttributes?: { workflowId?: string } }>;
  };
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId || undefined;
}
