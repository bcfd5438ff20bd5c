/**
 * Scheduled retraining on Temporal Schedules: a schedule starts `trainingRun` with a fixed input
 * on a cron or interval spec. Runs it starts get the workflow id `sched-<id>-<timestamp>`, the
 * `ArkorModel`/`ArkorPhase` search attributes, and Temporal's own `TemporalScheduledById`, so
 * they are findable with `listRuns({ schedule: id })`.
 */
import {
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec as TemporalScheduleSpec,
  type ScheduleUpdateOptions,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
} from '@temporalio/client';
import { z } from 'zod';
import { durationToMs } from '../contract/duration.js';
import { durationTextSchema, parseTrainingRunInput, type TrainingRunInput } from '../contract/input.js';
import { ArkorModel, ArkorPhase } from '../contract/search-attributes.js';
import { RunPhase } from '../contract/status.js';
import { DEFAULT_TASK_QUEUE } from '../contract/task-queues.js';
import { type TrainingRunWorkflow, WorkflowType } from '../contract/workflows.js';
import { OVERLAP_POLICIES, OverlapPolicy } from './overlap-policy.js';
import { runStaticMetadata } from './run-metadata.js';

export { ScheduleNotFoundError };

export { OVERLAP_POLICIES, OverlapPolicy };

const TEMPORAL_OVERLAP = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'terminate-other': 'TERMINATE_OTHER',
  'allow-all': 'ALLOW_ALL',
} as const satisfies Record<OverlapPolicy, string>;

function toOverlap(policy: string | undefined): OverlapPolicy | undefined {
  const entry = Object.entries(TEMPORAL_OVERLAP).find(([, temporal]) => temporal === policy);
  return entry?.[0] as OverlapPolicy | undefined;
}

/** A duration string as the CLI and Temporal accept it (see `contract/duration.ts`). */
const durationText = durationTextSchema;

const specSchema = z
  .strictObject({
    cron: z.array(z.string().trim().min(1)).min(1).optional(),
    every: durationText.optional(),
    timezone: z.string().trim().min(1).optional(),
  })
  .refine((spec) => (spec.cron === undefined) !== (spec.every === undefined), 'give exactly one of cron or every');

const optionsSchema = z.strictObject({
  overlap: z.enum(OVERLAP_POLICIES as [OverlapPolicy, ...OverlapPolicy[]]).default('skip'),
  catchupWindow: durationText.default('1h'),
  pauseOnFailure: z.boolean().default(false),
  note: z.string().optional(),
  paused: z.boolean().optional(),
});

/** When runs are due: cron expressions or a fixed interval, in a time zone. */
export interface ScheduleTiming {
  /** Cron expressions (5 or 6 fields, as Temporal parses them). Exactly one of `cron`/`every`. */
  cron?: string[];
  /** A fixed interval such as `1h` or `30m`. */
  every?: string;
  /** IANA time zone for cron expressions. Default UTC. */
  timezone?: string;
}

export interface SchedulePolicyOptions {
  /** Default `skip`: a due run is dropped while the previous one is still running. */
  overlap?: OverlapPolicy;
  /** How late a missed run (server down, schedule paused) may still start. Default `1h`. */
  catchupWindow?: string;
  /** Pause the schedule when a run it started fails. Default false. */
  pauseOnFailure?: boolean;
  /** Note recorded with the schedule's state. */
  note?: string;
  /** Create paused (or, for `update`, set paused). Default: not paused; `update` keeps the state. */
  paused?: boolean;
}

/** A schedule id that is already taken. */
export class ScheduleAlreadyExistsError extends Error {
  override readonly name = 'ScheduleAlreadyExistsError';
  constructor(readonly scheduleId: string) {
    super(`schedule ${scheduleId} already exists (use update, or --update on the CLI, to replace it)`);
  }
}

/** The spec, policies or id of a schedule is invalid; nothing was created or changed. */
export class InvalidScheduleError extends Error {
  override readonly name = 'InvalidScheduleError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(issues.length > 0 ? `${message}: ${issues.join('; ')}` : message);
  }
}

/** One started run of a schedule. */
export interface ScheduledAction {
  workflowId: string;
  runId: string;
  /** When the spec (or trigger, or backfill) said the run was due. */
  scheduledAt?: Date;
  takenAt?: Date;
}

export interface ScheduleListEntry {
  scheduleId: string;
  paused: boolean;
  note?: string;
  workflowType?: string;
  nextActionTimes: Date[];
  recentActions: ScheduledAction[];
}

export interface ScheduleInfo {
  scheduleId: string;
  /** The spec as it was given, when it was created by this service. */
  timing?: ScheduleTiming;
  /** Intervals as Temporal reports them, in ms. */
  intervalsMs: number[];
  timezone?: string;
  workflowType: string;
  taskQueue?: string;
  /** Run input of the action. */
  input?: TrainingRunInput;
  overlap: OverlapPolicy | undefined;
  catchupWindowMs: number;
  pauseOnFailure: boolean;
  paused: boolean;
  note?: string;
  numActionsTaken: number;
  numActionsSkippedOverlap: number;
  numActionsMissedCatchupWindow: number;
  recentActions: ScheduledAction[];
  runningActions: ScheduledAction[];
  nextActionTimes: Date[];
  createdAt: Date;
  lastUpdatedAt?: Date;
}

export interface ScheduleServiceOptions {
  /** Default `arkor-training` (the worker's TEMPORAL_TASK_QUEUE must match). */
  taskQueue?: string;
}

/** Memo key on the action that keeps the spec as given (Temporal compiles cron into calendars). */
const TIMING_MEMO = 'arkorScheduleTiming';

/** Prefix of the workflow ids of scheduled runs; Temporal appends `-<scheduled time>`. */
export function scheduledWorkflowIdPrefix(scheduleId: string): string {
  return `sched-${scheduleId}`;
}

export class ScheduleService {
  private readonly taskQueue: string;

  constructor(
    private readonly client: Client,
    options: ScheduleServiceOptions = {},
  ) {
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  }

  /**
   * Creates a schedule. Validates the input (`InvalidTrainingInputError`) and the spec and
   * policies (`InvalidScheduleError`) before anything is created; throws
   * `ScheduleAlreadyExistsError` when the id is taken.
   */
  async create(
    id: string,
    input: TrainingRunInput,
    timing: ScheduleTiming,
    options: SchedulePolicyOptions = {},
  ): Promise<void> {
    const compiled = this.compile(id, input, timing, options);
    try {
      await this.client.schedule.create<TrainingRunWorkflow>({
        scheduleId: id,
        spec: compiled.spec,
        action: compiled.action,
        policies: compiled.policies,
        state: { paused: options.paused ?? false, ...(options.note === undefined ? {} : { note: options.note }) },
      });
    } catch (error) {
      if (error instanceof ScheduleAlreadyRunning) throw new ScheduleAlreadyExistsError(id);
      throw error;
    }
  }

  /**
   * Replaces the input, spec and policies of an existing schedule (`ScheduleNotFoundError` if
   * there is none). The paused state is kept unless `options.paused` is given.
   */
  async update(
    id: string,
    input: TrainingRunInput,
    timing: ScheduleTiming,
    options: SchedulePolicyOptions = {},
  ): Promise<void> {
    const compiled = this.compile(id, input, timing, options);
    await this.client.schedule
      .getHandle(id)
      .update<TrainingRunWorkflow>(
        (previous): ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<TrainingRunWorkflow>> => {
          const note = options.note ?? previous.state.note;
          return {
            spec: compiled.spec,
            action: compiled.action,
            policies: compiled.policies,
            state: {
              paused: options.paused ?? previous.state.paused,
              ...(note === undefined ? {} : { note }),
              ...(previous.state.remainingActions === undefined
                ? {}
                : { remainingActions: previous.state.remainingActions }),
            },
          };
        },
      );
  }

  /** Every schedule of the namespace (not only ours: `workflowType` tells them apart). */
  async list(): Promise<ScheduleListEntry[]> {
    const entries: ScheduleListEntry[] = [];
    for await (const summary of this.client.schedule.list()) {
      entries.push({
        scheduleId: summary.scheduleId,
        paused: summary.state.paused,
        ...(summary.state.note ? { note: summary.state.note } : {}),
        ...(summary.action ? { workflowType: summary.action.workflowType } : {}),
        nextActionTimes: summary.info.nextActionTimes,
        recentActions: summary.info.recentActions.map(toAction),
      });
    }
    return entries.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
  }

  /** The schedule's spec, policies, state, recent and running runs and next due times. */
  async describe(id: string): Promise<ScheduleInfo> {
    return toInfo(await this.handle(id).describe());
  }

  async pause(id: string, note?: string): Promise<void> {
    await this.handle(id).pause(note);
  }

  async unpause(id: string, note?: string): Promise<void> {
    await this.handle(id).unpause(note);
  }

  /**
   * Starts a run now under `overlap`, by default the schedule's own policy (so with `skip` a
   * trigger while a run is active starts nothing). Temporal takes a trigger even while the
   * schedule is paused.
   */
  async trigger(id: string, overlap?: OverlapPolicy): Promise<void> {
    const handle = this.handle(id);
    // The SDK's own default is ALLOW_ALL, which would let a trigger bypass the schedule's policy.
    const policy = overlap === undefined ? (await handle.describe()).policies.overlap : TEMPORAL_OVERLAP[overlap];
    await handle.trigger(policy ?? 'SKIP');
  }

  /** Takes the runs the spec had due in `[start, end]`, as if the schedule had run then. */
  async backfill(id: string, window: { start: Date; end: Date; overlap?: OverlapPolicy }): Promise<void> {
    if (!(window.start.getTime() < window.end.getTime()))
      throw new InvalidScheduleError('backfill start must be before its end');
    await this.handle(id).backfill({
      start: window.start,
      end: window.end,
      ...(window.overlap === undefined ? {} : { overlap: TEMPORAL_OVERLAP[window.overlap] }),
    });
  }

  /** Deletes the schedule; runs it started go on. */
  async delete(id: string): Promise<void> {
    await this.handle(id).delete();
  }

  private handle(id: string): ScheduleHandle {
    return this.client.schedule.getHandle(id);
  }

  private compile(id: string, input: TrainingRunInput, timing: ScheduleTiming, options: SchedulePolicyOptions) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(id)) {
      throw new InvalidScheduleError(`invalid schedule id "${id}" (letters, digits, ".", "_", "-")`);
    }
    const valid = parseTrainingRunInput(input);
    const spec = specSchema.safeParse(timing);
    if (!spec.success) throw new InvalidScheduleError('invalid schedule spec', issues(spec.error));
    const policy = optionsSchema.safeParse(options);
    if (!policy.success) throw new InvalidScheduleError('invalid schedule options', issues(policy.error));
    const given: ScheduleTiming = spec.data;
    const temporalSpec: TemporalScheduleSpec = {
      ...(given.cron ? { cronExpressions: given.cron } : {}),
      ...(given.every ? { intervals: [{ every: Math.round(durationToMs(given.every)) }] } : {}),
      ...(given.timezone ? { timezone: given.timezone } : {}),
    };
    const action: ScheduleOptionsStartWorkflowAction<TrainingRunWorkflow> = {
      type: 'startWorkflow',
      workflowType: WorkflowType.trainingRun,
      workflowId: scheduledWorkflowIdPrefix(id),
      taskQueue: this.taskQueue,
      // The workflow fills in defaults: pass what the caller wrote, as `TrainingService.start` does.
      args: [input],
      memo: { [TIMING_MEMO]: given },
      ...runStaticMetadata(valid),
      typedSearchAttributes: [
        { key: ArkorModel, value: valid.trainer.model },
        { key: ArkorPhase, value: RunPhase.Submitting },
      ],
    };
    return {
      spec: temporalSpec,
      action,
      policies: {
        overlap: TEMPORAL_OVERLAP[policy.data.overlap],
        catchupWindow: Math.round(durationToMs(policy.data.catchupWindow)),
        pauseOnFailure: policy.data.pauseOnFailure,
      },
    };
  }
}

function issues(error: z.ZodError): string[] {
  return error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
}

function toAction(result: {
  scheduledAt: Date;
  takenAt: Date;
  action: { workflow: { workflowId: string; firstExecutionRunId: string } };
}): ScheduledAction {
  return {
    workflowId: result.action.workflow.workflowId,
    runId: result.action.workflow.firstExecutionRunId,
    scheduledAt: result.scheduledAt,
    takenAt: result.takenAt,
  };
}

function toInfo(description: ScheduleDescription): ScheduleInfo {
  const { action, info, policies, state } = description;
  const timing = parseTiming(action.memo?.[TIMING_MEMO]);
  const input = action.args?.[0] as TrainingRunInput | undefined;
  return {
    scheduleId: description.scheduleId,
    ...(timing ? { timing } : {}),
    intervalsMs: (description.spec.intervals ?? []).map((interval) => interval.every),
    ...(description.spec.timezone ? { timezone: description.spec.timezone } : {}),
    workflowType: action.workflowType,
    ...(action.taskQueue ? { taskQueue: action.taskQueue } : {}),
    ...(input === undefined ? {} : { input }),
    overlap: toOverlap(policies.overlap),
    catchupWindowMs: policies.catchupWindow,
    pauseOnFailure: policies.pauseOnFailure,
    paused: state.paused,
    ...(state.note ? { note: state.note } : {}),
    numActionsTaken: info.numActionsTaken,
    numActionsSkippedOverlap: info.numActionsSkippedOverlap,
    numActionsMissedCatchupWindow: info.numActionsMissedCatchupWindow,
    recentActions: info.recentActions.map(toAction),
    runningActions: info.runningActions.map((running) => ({
      workflowId: running.workflow.workflowId,
      runId: running.workflow.firstExecutionRunId,
    })),
    nextActionTimes: info.nextActionTimes,
    createdAt: info.createdAt,
    ...(info.lastUpdatedAt ? { lastUpdatedAt: info.lastUpdatedAt } : {}),
  };
}

function parseTiming(value: unknown): ScheduleTiming | undefined {
  const parsed = z
    .object({ cron: z.array(z.string()).optional(), every: z.string().optional(), timezone: z.string().optional() })
    .safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
