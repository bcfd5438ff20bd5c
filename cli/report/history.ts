/**
 * Reads what a run report needs from a workflow's history, through the client: every run of the
 * continue-as-new chain (newest first, then back through `continuedExecutionRunId`), with its
 * payloads decoded by the client's data converter — so an encrypted run reads with
 * ARKOR_PAYLOAD_KEY — and no worker needed. Only for a run without a result (running, or
 * cancelled) is the `status` query asked, briefly; without a worker the report folds the history.
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { LoadedDataConverter, Payload } from '@temporalio/common';
import type proto from '@temporalio/proto';
import { ENCRYPTED_ENCODING, PayloadKeyError } from '../../codec/encryption.js';
import { deliverUpdate, eventsSignal, statusQuery } from '../../contract/messages.js';
import { ArkorJobId, ArkorPhase } from '../../contract/search-attributes.js';
import type { RunStatus } from '../../contract/status.js';
import type { RecordedMessage, RecordedRun, RunClose, RunRecord } from './model.js';

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** Runs of a chain read at most (the newest); a report of a longer chain says how many it left out. */
export const MAX_RUNS_READ = 200;
/** How long the `status` query may take when there is no result (a worker must answer it). */
export const REPORT_QUERY_TIMEOUT_MS = 3000;

const RESOURCE_EXHAUSTED = 8;

export interface ReadOptions {
  /** Ask the `status` query when the run has no result (default true). */
  queryStatus?: boolean;
  queryTimeoutMs?: number;
}

/** Reads the record of `workflowId` (throws `WorkflowNotFoundError` for an unknown id). */
export async function readRunRecord(client: Client, workflowId: string, options: ReadOptions = {}): Promise<RunRecord> {
  const converter = client.options.loadedDataConverter;
  // The latest run first: describe names it, so that the chain read is consistent.
  const description = await client.workflow.getHandle(workflowId).describe();
  const runs: RecordedRun[] = [];
  let runId: string | undefined = description.runId;
  let runsNotRead = 0;
  while (runId) {
    if (runs.length === MAX_RUNS_READ) {
      runsNotRead = 1; // at least; the chain is not followed further
      break;
    }
    const events = await fetchEvents(client, workflowId, runId);
    runs.unshift(await decodeRun(converter, runId, events));
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  const record: RunRecord = { workflowId, runs, ...(runsNotRead ? { runsNotRead } : {}) };
  const latest = runs.at(-1);
  const hasResult =
    latest?.close?.kind === 'completed' || (latest?.close?.kind === 'failed' && latest.close.details !== undefined);
  if (!hasResult && options.queryStatus !== false) {
    const liveStatus = await queryStatus(client, workflowId, options.queryTimeoutMs ?? REPORT_QUERY_TIMEOUT_MS);
    if (liveStatus) record.liveStatus = liveStatus;
  }
  return record;
}

/** The `status` query, or undefined when no worker answers in time (or the run cannot answer). */
async function queryStatus(client: Client, workflowId: string, timeoutMs: number): Promise<RunStatus | undefined> {
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.getHandle(workflowId).query(statusQuery),
    );
  } catch {
    return undefined;
  }
}

/**
 * One run's events, in pages: large pages of big deliveries would exceed the server's message
 * size, so a refused page is asked again in small pages.
 */
async function fetchEvents(client: Client, workflowId: string, runId: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  let pageSize = 100;
  do {
    let page: proto.temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse;
    try {
      page = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId, runId },
        maximumPageSize: pageSize,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
    } catch (error) {
      if (pageSize > 10 && isGrpcServiceError(error) && Number(error.code) === RESOURCE_EXHAUSTED) {
        pageSize = 10;
        continue;
      }
      throw error;
    }
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

/** Decodes payloads through the codecs (the last first, as the SDK does) and the payload converter. */
async function decodePayloads(
  converter: LoadedDataConverter,
  payloads: Payload[] | null | undefined,
): Promise<unknown[]> {
  if (!payloads || payloads.length === 0) return [];
  let decoded = payloads;
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded.map((payload) => {
    if (encodingOf(payload) === ENCRYPTED_ENCODING)
      throw new PayloadKeyError(
        'the run\'s payloads are encrypted: set ARKOR_PAYLOAD_KEY to the key its workers use (see "Encryption" in the README)',
      );
    return converter.payloadConverter.fromPayload(payload);
  });
}

function encodingOf(payload: Payload): string | undefined {
  const encoding = payload.metadata?.encoding;
  return encoding ? new TextDecoder().decode(encoding) : undefined;
}

function timeOf(event: HistoryEvent): string {
  const time = event.eventTime;
  if (!time) return new Date(0).toISOString();
  const seconds = typeof time.seconds === 'number' ? time.seconds : Number(time.seconds?.toString() ?? 0);
  return new Date(seconds * 1000 + Math.floor((time.nanos ?? 0) / 1e6)).toISOString();
}

/** A keyword search attribute's value in an upsert (search attributes are never codec-encoded). */
function keyword(converter: LoadedDataConverter, fields: Record<string, Payload> | null | undefined, name: string) {
  const payload = fields?.[name];
  if (!payload) return undefined;
  const value: unknown = converter.payloadConverter.fromPayload(payload);
  const text = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof text === 'string' ? text : undefined;
}

async function decodeRun(converter: LoadedDataConverter, runId: string, events: HistoryEvent[]): Promise<RecordedRun> {
  const started = events[0];
  const run: RecordedRun = {
    runId,
    startedAt: started ? timeOf(started) : new Date(0).toISOString(),
    input: (await decodePayloads(converter, started?.workflowExecutionStartedEventAttributes?.input?.payloads))[0],
    messages: [],
    phases: [],
  };
  // The phase a client started the run in (`TrainingService.start` sets it), before any upsert.
  const startPhase = keyword(
    converter,
    started?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields,
    ArkorPhase.name,
  );
  if (startPhase !== undefined && started) run.phases.push({ phase: startPhase, at: run.startedAt });
  for (const event of events) {
    const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    if (update?.name === deliverUpdate.name) {
      const [delivery] = await decodePayloads(converter, update.args?.payloads);
      run.messages.push({ kind: 'deliver', delivery } satisfies RecordedMessage);
      continue;
    }
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === eventsSignal.name) {
      const [batch] = await decodePayloads(converter, signal.input?.payloads);
      run.messages.push({ kind: 'events', batch });
      continue;
    }
    const upsert = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (upsert) {
      const phase = keyword(converter, upsert, ArkorPhase.name);
      if (phase !== undefined) run.phases.push({ phase, at: timeOf(event) });
      const jobId = keyword(converter, upsert, ArkorJobId.name);
      if (jobId !== undefined) run.jobId = jobId;
      continue;
    }
    const close = await closeOf(converter, event);
    if (close) run.close = close;
  }
  return run;
}

async function closeOf(converter: LoadedDataConverter, event: HistoryEvent): Promise<RunClose | undefined> {
  const at = timeOf(event);
  if (event.workflowExecutionCompletedEventAttributes) {
    const [result] = await decodePayloads(converter, event.workflowExecutionCompletedEventAttributes.result?.payloads);
    return { kind: 'completed', at, result };
  }
  const failed = event.workflowExecutionFailedEventAttributes?.failure;
  if (failed) {
    const info = failed.applicationFailureInfo;
    // The run's failures carry its result as their first detail (contract/result.ts).
    const [details] = await decodePayloads(converter, info?.details?.payloads);
    return {
      kind: 'failed',
      at,
      message: failed.message ?? '',
      ...(info?.type ? { failureType: info.type } : {}),
      ...(details === undefined ? {} : { details }),
    };
  }
  if (event.workflowExecutionContinuedAsNewEventAttributes) return { kind: 'continued-as-new', at };
  if (event.workflowExecutionCanceledEventAttributes) return { kind: 'cancelled', at };
  const terminated = event.workflowExecutionTerminatedEventAttributes;
  if (terminated) return { kind: 'terminated', at, ...(terminated.reason ? { reason: terminated.reason } : {}) };
  if (event.workflowExecutionTimedOutEventAttributes) return { kind: 'timed-out', at };
  return undefined;
}
