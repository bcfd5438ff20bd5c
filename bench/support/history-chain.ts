/** Reads every run of a workflow id by following its continue-as-new chain from the first run. */
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';

const { History } = proto.temporal.api.history.v1;

/** One run's history, summarised. */
export interface RunHistory {
  runId: string;
  events: number;
  /** Size of the encoded history protobuf. */
  bytes: number;
  /** Event deliveries: `arkor.events` signals (earlier versions) and accepted `arkor.deliver` updates. */
  signals: number;
  /** How the run ended: `continuedAsNew`, `completed`, `failed`, ... */
  ending: string;
}

export async function historyChain(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const events = await fetchEvents(client, workflowId, runId);
    const history: proto.temporal.api.history.v1.IHistory = { events };
    const last = events.at(-1);
    const continued: proto.temporal.api.history.v1.IWorkflowExecutionContinuedAsNewEventAttributes | null | undefined =
      last?.workflowExecutionContinuedAsNewEventAttributes;
    runs.push({
      runId,
      events: events.length,
      bytes: History.encode(history).finish().length,
      signals: events.filter(
        (event) =>
          event.workflowExecutionSignaledEventAttributes || event.workflowExecutionUpdateAcceptedEventAttributes,
      ).length,
      ending: continued ? 'continuedAsNew' : endingOf(last),
    });
    runId = continued?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/**
 * Pages through a run's history in small pages: the SDK's fetchHistory asks for the server's
 * default page size, and a page of big signal payloads exceeds gRPC's 4 MB message limit. A
 * signal or onLog input of 1,000 log events is ≈ 215 KiB, so 10 events stay under 2.2 MiB.
 */
async function fetchEvents(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<proto.temporal.api.history.v1.IHistoryEvent[]> {
  const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page: proto.temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse =
      await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId, runId },
        maximumPageSize: 10,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

function endingOf(event: proto.temporal.api.history.v1.IHistoryEvent | undefined): string {
  if (!event) return 'none';
  if (event.workflowExecutionCompletedEventAttributes) return 'completed';
  if (event.workflowExecutionFailedEventAttributes) return 'failed';
  if (event.workflowExecutionCanceledEventAttributes) return 'cancelled';
  if (event.workflowExecutionTerminatedEventAttributes) return 'terminated';
  if (event.workflowExecutionTimedOutEventAttributes) return 'timedOut';
  return 'running';
}
