/**
 * Lists training runs from Temporal visibility: the run's workflow type, our typed search
 * attributes (`ArkorPhase`, `ArkorModel`, `ArkorJobId`) and Temporal's `TemporalScheduledById`
 * for runs a schedule started. Optionally enriched from each run's `status` query.
 */
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { statusQuery } from '../contract/messages.js';
import { ArkorJobId, ArkorModel, ArkorPhase } from '../contract/search-attributes.js';
import type { PromotionInfo } from '../contract/status.js';

/** Set by Temporal on every workflow a schedule starts. */
const TemporalScheduledById = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

export interface ListRunsFilter {
  /** Only runs in this phase (the `ArkorPhase` search attribute). */
  phase?: string;
  /** Only runs of this base model. */
  model?: string;
  /** Only runs started by this schedule. */
  schedule?: string;
  /** At most this many runs. Default 20. */
  limit?: number;
}

export interface ListRunsOptions {
  /**
   * Query each run's `status` for its best score and promotion. Needs a worker; a run whose
   * query fails or exceeds `statusTimeoutMs` keeps them undefined. Default false.
   */
  withStatus?: boolean;
  /** Per-query deadline. Default 2000 ms. */
  statusTimeoutMs?: number;
}

export interface RunSummary {
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, ... */
  status: WorkflowExecutionStatusName;
  startTime: Date;
  closeTime?: Date;
  phase?: string;
  jobId?: string;
  model?: string;
  scheduleId?: string;
  /** The best smoke-test score: of the final adapter, else of the best checkpoint. */
  bestScore?: number;
  promotion?: PromotionInfo;
}

/** A filter value that cannot be quoted safely in a visibility query. */
export class InvalidRunFilterError extends Error {
  override readonly name = 'InvalidRunFilterError';
}

const DEFAULT_LIMIT = 20;

/** The visibility query for `filter`. */
export function buildRunsQuery(filter: ListRunsFilter): string {
  const clauses = [`WorkflowType = 'trainingRun'`];
  if (filter.phase !== undefined) clauses.push(`${ArkorPhase.name} = ${quote('phase', filter.phase)}`);
  if (filter.model !== undefined) clauses.push(`${ArkorModel.name} = ${quote('model', filter.model)}`);
  if (filter.schedule !== undefined)
    clauses.push(`${TemporalScheduledById.name} = ${quote('schedule', filter.schedule)}`);
  return clauses.join(' AND ');
}

function quote(field: string, value: string): string {
  // Rejected rather than escaped: no phase, model or schedule id needs quotes or backslashes.
  if (value === '' || /['"\\\n]/.test(value)) throw new InvalidRunFilterError(`invalid ${field} filter "${value}"`);
  return `'${value}'`;
}

/** Recent training runs matching `filter`, newest first. */
export async function listRuns(
  client: Client,
  filter: ListRunsFilter = {},
  options: ListRunsOptions = {},
): Promise<RunSummary[]> {
  const limit = filter.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit <= 0) throw new InvalidRunFilterError(`invalid limit ${limit}`);
  const runs: RunSummary[] = [];
  for await (const info of client.workflow.list({ query: buildRunsQuery(filter), pageSize: Math.min(limit, 1000) })) {
    const attributes = info.typedSearchAttributes;
    const phase = attributes.get(ArkorPhase);
    const jobId = attributes.get(ArkorJobId);
    const model = attributes.get(ArkorModel);
    const scheduleId = attributes.get(TemporalScheduledById);
    runs.push({
      workflowId: info.workflowId,
      runId: info.runId,
      status: info.status.name,
      startTime: info.startTime,
      ...(info.closeTime ? { closeTime: info.closeTime } : {}),
      ...(phase === undefined ? {} : { phase }),
      ...(jobId === undefined ? {} : { jobId }),
      ...(model === undefined ? {} : { model }),
      ...(scheduleId === undefined ? {} : { scheduleId }),
    });
    if (runs.length >= limit) break;
  }
  // Visibility lists running executions before closed ones; people expect start order.
  runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  if (options.withStatus) await Promise.all(runs.map((run) => enrich(client, run, options.statusTimeoutMs ?? 2000)));
  return runs;
}

async function enrich(client: Client, run: RunSummary, timeoutMs: number): Promise<void> {
  try {
    const status = await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.getHandle(run.workflowId, run.runId).query(statusQuery),
    );
    const bestScore = status.finalScore?.score ?? status.bestCheckpoint?.score;
    if (bestScore !== undefined) run.bestScore = bestScore;
    if (status.promotion) run.promotion = status.promotion;
    // The search attribute lags the status by a workflow task; the query is the fresher one.
    run.phase = status.phase;
  } catch {
    // No worker, a deadline, or a run that cannot answer: the row keeps what visibility said.
  }
}
