/**
 * A run report's data, built from what a run's workflow history holds (`history.ts` reads and
 * decodes it; everything here is pure): the run's input, the events delivered to it (`arkor.deliver`
 * updates and legacy `arkor.events` signals), its phase changes (`ArkorPhase` upserts, with their
 * times), and how each Temporal run of the chain closed (the result, or a failure carrying it).
 *
 * The status comes, in this order, from the final result, from the live `status` query, or from
 * folding the delivered events with `applyEvent` as the workflow does (then without scores, gate or
 * promotion, which are not events). The eval-loss curve is always the fold's: the status keeps
 * only the latest and best eval loss.
 */
import {
  advancePosition,
  continuationOf,
  deliverySchema,
  STREAM_START,
  type StreamPosition,
} from '../../contract/delivery.js';
import { runEventSchema, type EventBatch, type RunEvent } from '../../contract/events.js';
import type { RunOutcome, RunResult } from '../../contract/result.js';
import { appendLossPoint, applyEvent, initialRunStatus, type RunStatus } from '../../contract/status.js';

/** A delivery of job events, as the run's history records it. */
export type RecordedMessage = { kind: 'deliver'; delivery: unknown } | { kind: 'events'; batch: unknown };

/** How one Temporal run of the chain closed. */
export type RunClose =
  | { kind: 'completed'; at: string; result: unknown }
  | { kind: 'failed'; at: string; message: string; failureType?: string; details?: unknown }
  | { kind: 'continued-as-new'; at: string }
  | { kind: 'cancelled'; at: string }
  | { kind: 'terminated'; at: string; reason?: string }
  | { kind: 'timed-out'; at: string };

/** One Temporal run of a workflow id (a chain of continue-as-new runs has several), decoded. */
export interface RecordedRun {
  runId: string;
  startedAt: string;
  /** The workflow's argument: the run's input (with `resume` in a continued run). */
  input: unknown;
  /** Deliveries the workflow accepted, in history order. */
  messages: RecordedMessage[];
  /** `ArkorPhase` upserts, in history order. */
  phases: Array<{ phase: string; at: string }>;
  /** The last `ArkorJobId` upsert. */
  jobId?: string;
  close?: RunClose;
}

/** Everything read about a workflow id. */
export interface RunRecord {
  workflowId: string;
  /** Oldest first. */
  runs: RecordedRun[];
  /** The `status` query's answer, when a worker answered it (asked only when there is no result). */
  liveStatus?: RunStatus;
  /** Earlier runs of the chain that were not read (the chain was longer than the reader's limit). */
  runsNotRead?: number;
}

/** A stretch of time the run spent in one phase. */
export interface PhaseSpan {
  phase: string;
  start: string;
  /** Absent for the phase the run is in now. */
  end?: string;
}

/** What the report shows; the renderers (`chart.ts`, `html.ts`) take only this. */
export interface RunReport {
  workflowId: string;
  runIds: string[];
  runsNotRead: number;
  /** Temporal's view: the latest run is open, or how it closed. */
  execution: 'running' | Exclude<RunClose['kind'], 'continued-as-new'>;
  /** Where `status` comes from: the run's result, the live `status` query, or the history's events. */
  statusSource: 'result' | 'query' | 'history';
  status: RunStatus;
  outcome?: RunOutcome;
  /** Why the run ended when it did not complete (the result's reason, the failure, the termination). */
  reason?: string;
  failure?: { type?: string; message: string };
  /** `[step, loss]`: the status's curve (one sample per point; downsampled to 200 on long runs). */
  lossCurve: Array<[number, number]>;
  /** `[step, eval loss]`, folded from the delivered events (downsampled as the loss curve). */
  evalCurve: Array<[number, number]>;
  phases: PhaseSpan[];
  startedAt: string;
  closedAt?: string;
  /** The input's gate settings, shown next to the gate's decision. */
  gate?: { minScore: number; mustBeatDeployed?: boolean };
  /** Events the history delivered (deduplicated as the workflow does). */
  eventsDelivered: number;
  /** Deliveries of a shape the report did not understand (skipped). */
  deliveriesSkipped: number;
  /** When the report was made (for a running run: how far its timeline goes). */
  generatedAt: string;
}

/** The parts of an input the report reads (an input of another version may differ). */
interface InputView {
  trainer?: { name?: string; model?: string; maxSteps?: number };
  budget?: { maxSteps?: number };
  smokeTest?: unknown;
  labels?: Record<string, string>;
  gate?: { minScore?: number; mustBeatDeployed?: boolean };
  resume?: { cursor?: string; cursorOffset?: number };
}

function inputView(input: unknown): InputView {
  return typeof input === 'object' && input !== null ? input : {};
}

/** The result a close carries: the completed run's value, or a failed run's details. */
function resultOf(close: RunClose | undefined): RunResult | undefined {
  const value = close?.kind === 'completed' ? close.result : close?.kind === 'failed' ? close.details : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const result = value as Partial<RunResult>;
  return typeof result.outcome === 'string' && typeof result.status === 'object' && result.status !== null
    ? (value as RunResult)
    : undefined;
}

/**
 * The events a chain of runs received, each once: per run, deliveries trimmed to the
 * continuation of the run's position (from its `resume` for a continued run), ids seen before
 * dropped — what the workflow's inbox does.
 */
export function deliveredEvents(runs: readonly RecordedRun[]): { events: RunEvent[]; skipped: number } {
  const events: RunEvent[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  for (const run of runs) {
    const resume = inputView(run.input).resume;
    let position: StreamPosition =
      resume?.cursor === undefined ? STREAM_START : { cursor: resume.cursor, offset: resume.cursorOffset ?? 0 };
    for (const message of run.messages) {
      let received: RunEvent[] | undefined;
      if (message.kind === 'deliver') {
        const parsed = deliverySchema.safeParse(message.delivery);
        received = parsed.success ? continuationOf(position, parsed.data) : undefined;
        // An accepted delivery always continues the position; one that does not was not understood.
        if (received === undefined) skipped++;
      } else {
        const parsed = runEventSchema.array().safeParse((message.batch as Partial<EventBatch> | null)?.events);
        if (parsed.success) received = parsed.data;
        else skipped++;
      }
      for (const event of received ?? []) {
        if (event.id !== undefined) {
          if (seen.has(event.id)) continue;
          seen.add(event.id);
        }
        position = advancePosition(position, event);
        events.push(event);
      }
    }
  }
  return { events, skipped };
}

/** The status the workflow starts from, for folding events into. */
function initialStatus(workflowId: string, input: InputView, startedAt: string): RunStatus {
  const maxSteps = input.budget?.maxSteps ?? input.trainer?.maxSteps;
  return initialRunStatus({
    workflowId,
    name: input.trainer?.name ?? workflowId,
    model: input.trainer?.model ?? '',
    ...(maxSteps === undefined ? {} : { maxSteps }),
    startedAt,
    scoresCheckpoints: Boolean(input.smokeTest),
    ...(input.labels ? { labels: input.labels } : {}),
  });
}

/** The phase changes as spans: repeats merged, each ending where the next starts (the last at `closedAt`). */
export function phaseSpans(changes: ReadonlyArray<{ phase: string; at: string }>, closedAt?: string): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  for (const change of changes) {
    const last = spans.at(-1);
    if (last?.phase === change.phase) continue;
    if (last) last.end = change.at;
    spans.push({ phase: change.phase, start: change.at });
  }
  const last = spans.at(-1);
  if (last && closedAt !== undefined) last.end = closedAt;
  return spans;
}

/** Builds the report of a run from its record. */
export function buildRunReport(record: RunRecord, generatedAt: Date = new Date()): RunReport {
  const first = record.runs[0];
  const latest = record.runs.at(-1);
  if (!first || !latest) throw new Error(`no history for workflow ${record.workflowId}`);
  const input = inputView(first.input);
  const close = latest.close?.kind === 'continued-as-new' ? undefined : latest.close;
  const closedAt = close?.at;
  const phaseChanges = record.runs.flatMap((run) => run.phases);
  const { events, skipped } = deliveredEvents(record.runs);

  // The fold: what the history's events say, with the phase and job the upserts said.
  let folded = initialStatus(record.workflowId, input, first.startedAt);
  let evalCurve: Array<[number, number]> = [];
  for (const event of events) {
    folded = applyEvent(folded, event);
    const payload = event.payload;
    if (payload.type === 'training.log' && typeof payload.evalLoss === 'number')
      evalCurve = appendLossPoint(evalCurve, [payload.step, payload.evalLoss]);
  }
  const lastPhase = phaseChanges.at(-1)?.phase;
  const jobId = [...record.runs].reverse().find((run) => run.jobId !== undefined)?.jobId;
  folded = {
    ...folded,
    ...(lastPhase ? { phase: lastPhase as RunStatus['phase'] } : {}),
    ...(jobId ? { jobId } : {}),
    runNumber: record.runs.length + (record.runsNotRead ?? 0),
    ...(closedAt ? { finishedAt: closedAt } : {}),
  };

  const result = resultOf(close);
  const statusSource = result ? 'result' : record.liveStatus ? 'query' : 'history';
  const status = result?.status ?? record.liveStatus ?? folded;
  // Events received after a stop reach no callback, and so not the status's curve: the fold has them.
  const lossCurve = folded.lossCurve.length > status.lossCurve.length ? folded.lossCurve : status.lossCurve;

  const failure =
    close?.kind === 'failed'
      ? { message: close.message, ...(close.failureType ? { failureType: close.failureType } : {}) }
      : undefined;
  const reason =
    result?.reason ??
    (close?.kind === 'failed' ? close.message : undefined) ??
    (close?.kind === 'terminated' ? `terminated${close.reason ? `: ${close.reason}` : ''}` : undefined) ??
    (close?.kind === 'timed-out' ? 'the workflow timed out' : undefined) ??
    status.stop?.reason;
  const gate = input.gate;
  return {
    workflowId: record.workflowId,
    runIds: record.runs.map((run) => run.runId),
    runsNotRead: record.runsNotRead ?? 0,
    execution: close?.kind ?? 'running',
    statusSource,
    status,
    ...(result ? { outcome: result.outcome } : {}),
    ...(reason === undefined ? {} : { reason }),
    ...(failure
      ? { failure: { message: failure.message, ...(failure.failureType ? { type: failure.failureType } : {}) } }
      : {}),
    lossCurve,
    evalCurve,
    phases: phaseSpans(phaseChanges, closedAt),
    startedAt: first.startedAt,
    ...(closedAt ? { closedAt } : {}),
    ...(typeof gate?.minScore === 'number'
      ? {
          gate: {
            minScore: gate.minScore,
            ...(gate.mustBeatDeployed === undefined ? {} : { mustBeatDeployed: gate.mustBeatDeployed }),
          },
        }
      : {}),
    eventsDelivered: events.length,
    deliveriesSkipped: skipped,
    generatedAt: generatedAt.toISOString(),
  };
}
