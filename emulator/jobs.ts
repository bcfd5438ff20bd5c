/**
 * The job store and the clock that drives simulated training: it creates jobs, appends their
 * events (with per-job sequence ids) to a replayable history, pushes them to open streams, and
 * applies cancellation.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Scope } from './context.js';
import type { JobBehaviour } from './types.js';
import type { TrainingPlan } from './training.js';
import { eventsForStep, hashString, planFromConfig, pythonJson } from './training.js';

/** Job statuses of docs/arkor-protocol.md §3.3. */
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses after which nothing more happens to a job. */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/** The `TrainingJob` wire object (docs/arkor-protocol.md §3.3). */
export interface TrainingJob {
  id: string;
  orgId: string;
  projectId: string;
  name: string;
  status: JobStatus;
  config: Record<string, unknown>;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

/** One frame of a job's history, stored exactly as it is written on every stream. */
export interface StoredEvent {
  /** Per-job decimal sequence number ("1", "2", ...): unique and ordered, opaque to clients. */
  id: string;
  /** SSE `event:` name: the payload `type`, or `end` for the cancellation terminator. */
  event: string;
  /** SSE `data:` text (Python-style JSON: may contain a bare `NaN`). */
  data: string;
  /** The payload object (`{}` for `end`). */
  payload: Record<string, unknown>;
}

/** A job with its history, live subscribers, script and counters. */
export interface JobRecord {
  job: TrainingJob;
  plan: TrainingPlan;
  behaviour: JobBehaviour;
  history: StoredEvent[];
  subscribers: Set<(event: StoredEvent) => void>;
  /** Last simulated step emitted. */
  step: number;
  /** Steps for which `checkpoint.saved` was emitted (checkpoint adapters that exist). */
  savedSteps: Set<number>;
  /** `performance.now()` at which `training.started` is due; step k is due `k * stepMs` later. */
  startAt: number;
  noiseSalt: number;
  cancelsAccepted: number;
  cancelsRejected: number;
  streamOpens: Array<string | null>;
}

/** Result of a cancel request. */
export type CancelOutcome = { ok: true } | { ok: false; status: JobStatus };

/** Thrown when a behaviour targets a job id the emulator does not know. */
export class UnknownJobError extends Error {
  override readonly name = 'UnknownJobError';
}

/** Creates, stores and advances simulated training jobs. */
export class JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly active = new Set<JobRecord>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  constructor(private readonly clock: { stepMs: number; seed: number }) {
    // Tick often enough for the step rate, but never busier than 1 ms nor lazier than 20 ms;
    // each tick catches up on every step that is due, so fractional stepMs works.
    this.tickMs = Math.max(1, Math.min(clock.stepMs, 20));
  }

  /** Stores a new `queued` job and schedules its training. */
  create(scope: Scope, name: string, config: Record<string, unknown>, behaviour: JobBehaviour): JobRecord {
    const record: JobRecord = {
      job: {
        id: randomUUID(),
        orgId: scope.org.id,
        projectId: scope.project.id,
        name,
        status: 'queued',
        config,
        error: null,
        createdAt: new Date().toISOString(),
        startedAt: null,
        completedAt: null,
      },
      plan: planFromConfig(config),
      behaviour,
      history: [],
      subscribers: new Set(),
      step: 0,
      savedSteps: new Set(),
      startAt: performance.now() + (behaviour.queueMs ?? this.clock.stepMs),
      noiseSalt: hashString(name),
      cancelsAccepted: 0,
      cancelsRejected: 0,
      streamOpens: [],
    };
    this.records.set(record.job.id, record);
    this.active.add(record);
    this.ensureTimer();
    return record;
  }

  /** The job `id` if it belongs to `projectId`. */
  find(projectId: string, id: string): JobRecord | undefined {
    const record = this.records.get(id);
    return record?.job.projectId === projectId ? record : undefined;
  }

  /** Any job by id (control API and edge, which are not project-scoped). */
  byId(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  /** Jobs of a project in creation order. */
  list(projectId: string): JobRecord[] {
    return [...this.records.values()].filter((r) => r.job.projectId === projectId);
  }

  /** Every job in creation order. */
  all(): JobRecord[] {
    return [...this.records.values()];
  }

  /** Merges `behaviour` into the script of job `id` (later fields replace earlier ones). */
  mergeBehaviour(id: string, behaviour: JobBehaviour): void {
    const record = this.records.get(id);
    if (!record) throw new UnknownJobError(`unknown job ${id}`);
    Object.assign(record.behaviour, structuredClone(behaviour));
  }

  /** Drops the remaining connection faults (stream faults, delayed visibility) of every job. */
  clearConnectionFaults(): void {
    for (const record of this.records.values()) {
      delete record.behaviour.streamConnections;
      delete record.behaviour.notVisibleForOpens;
    }
  }

  /** Whether the job has reached a terminal status (its history then ends with a terminal frame). */
  isTerminal(record: JobRecord): boolean {
    return TERMINAL_STATUSES.has(record.job.status);
  }

  /**
   * History after `lastEventId`. No cursor → everything. Decision for an id this job never
   * issued (docs/arkor-protocol.md §11 D3): replay everything, because a client with a foreign cursor (e.g. from another
   * emulator run) is better served by duplicates it can dedupe than by silently lost events.
   */
  eventsAfter(record: JobRecord, lastEventId: string | null): StoredEvent[] {
    if (lastEventId === null) return [...record.history];
    const index = record.history.findIndex((e) => e.id === lastEventId);
    return index === -1 ? [...record.history] : record.history.slice(index + 1);
  }

  /** Calls `listener` for every event appended from now on; returns the unsubscribe function. */
  subscribe(record: JobRecord, listener: (event: StoredEvent) => void): () => void {
    record.subscribers.add(listener);
    return () => record.subscribers.delete(listener);
  }

  /** Cancels a non-terminal job: status `cancelled` and an `end` frame for every stream (docs/arkor-protocol.md §11 D2). */
  cancel(record: JobRecord): CancelOutcome {
    if (this.isTerminal(record)) {
      record.cancelsRejected += 1;
      return { ok: false, status: record.job.status };
    }
    record.cancelsAccepted += 1;
    this.active.delete(record);
    record.job = { ...record.job, status: 'cancelled', completedAt: new Date().toISOString() };
    this.append(record, 'end', {});
    return { ok: true };
  }

  /** Stops the training clock and forgets all stream subscribers. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.active.clear();
    for (const record of this.records.values()) record.subscribers.clear();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    // The HTTP server keeps a standalone emulator alive; the clock alone never should.
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    for (const record of [...this.active]) this.advance(record, now);
    if (this.active.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private advance(record: JobRecord, now: number): void {
    if (now < record.startAt) return;
    if (record.job.status === 'queued') {
      const timestamp = new Date().toISOString();
      record.job = { ...record.job, status: 'running', startedAt: timestamp };
      this.append(record, 'training.started', { metadata: { maxSteps: record.plan.maxSteps } }, timestamp);
    }
    const due = Math.min(record.plan.maxSteps, Math.floor((now - record.startAt) / this.clock.stepMs));
    while (record.step < due && record.job.status === 'running') {
      record.step += 1;
      const events = eventsForStep(record.plan, record.step, record.behaviour, {
        seed: this.clock.seed,
        salt: record.noiseSalt,
      });
      for (const e of events) this.emitStepEvent(record, e.type, e.fields);
    }
    if (this.isTerminal(record)) this.active.delete(record);
  }

  private emitStepEvent(record: JobRecord, type: string, fields: Record<string, unknown>): void {
    const timestamp = new Date().toISOString();
    if (type === 'checkpoint.saved' && typeof fields.step === 'number') record.savedSteps.add(fields.step);
    if (type === 'training.completed') {
      record.job = { ...record.job, status: 'completed', completedAt: timestamp };
    } else if (type === 'training.failed') {
      const error = typeof fields.error === 'string' ? fields.error : 'training failed';
      record.job = { ...record.job, status: 'failed', error, completedAt: timestamp };
    }
    this.append(record, type, fields, timestamp);
  }

  private append(record: JobRecord, event: string, fields: Record<string, unknown>, timestamp?: string): void {
    // `end` carries `{}` exactly; data frames carry the common `type`/`jobId`/`timestamp` first.
    const payload =
      event === 'end'
        ? {}
        : { type: event, jobId: record.job.id, timestamp: timestamp ?? new Date().toISOString(), ...fields };
    const stored: StoredEvent = { id: String(record.history.length + 1), event, data: pythonJson(payload), payload };
    record.history.push(stored);
    for (const listener of [...record.subscribers]) listener(stored);
  }
}
