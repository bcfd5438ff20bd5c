/**
 * The state a run hands to its continuation when it continues as new (`resume` in the
 * workflow's argument). Internal: only the workflow writes it, and the run that reads it may run
 * on newer code than the run that wrote it (a deploy between the two), so it has a schema of its
 * own, versioned and separate from the user-facing input schema:
 *
 * - every shape ever written stays readable: a version's schema never changes once released; a
 *   new shape is a new version, with a migration from the one before (`migrateResume`);
 * - unknown keys are dropped, never refused (a newer writer may add one without a new version,
 *   provided its absence means what the older code did);
 * - a version newer than the reader knows is refused by name (`parseTrainingRunWorkflowInput`).
 *
 * Version 1 is the unversioned handover of the first releases; version 2 adds `version` itself,
 * the chain's settings (`run-settings.ts`), and makes `dispatched` and `pendingEvents` required.
 */
import { z } from 'zod';
import type { RunEvent } from './events.js';
import { carriedRunSettings, carriedRunSettingsSchema, LEGACY_RUN_SETTINGS, type RunSettings } from './run-settings.js';

/** The version a run writes now. */
export const RESUME_VERSION = 2;

const position = z.object({ cursor: z.string().optional(), offset: z.number().int().nonnegative() });

/** Version 1: no `version` field. Frozen. */
export const resumeV1Schema = z.object({
  jobId: z.string(),
  /** The continued run's stream position (see `delivery.ts`): the cursor, and id-less events after it. */
  cursor: z.string().optional(),
  cursorOffset: z.number().int().nonnegative().optional(),
  /** The position before `pendingEvents`; absent in the handovers of the earliest builds. */
  dispatched: position.optional(),
  recentEventIds: z.array(z.string()),
  /** Events received but not yet dispatched, handed to the next run (bounded); absent in the earliest builds. */
  pendingEvents: z.array(z.custom<RunEvent>()).optional(),
  startedAtMs: z.number(),
  runNumber: z.number().int().positive(),
  summary: z.record(z.string(), z.unknown()),
});
export type ResumeV1 = z.output<typeof resumeV1Schema>;

/** Version 2. Frozen once released. */
export const resumeV2Schema = z.object({
  version: z.literal(2),
  /** The chain's settings, fixed by its first run. A setting missing here reads as its legacy value. */
  settings: carriedRunSettingsSchema,
  jobId: z.string(),
  cursor: z.string().optional(),
  cursorOffset: z.number().int().nonnegative().optional(),
  dispatched: position,
  recentEventIds: z.array(z.string()),
  pendingEvents: z.array(z.custom<RunEvent>()),
  startedAtMs: z.number(),
  runNumber: z.number().int().positive(),
  summary: z.record(z.string(), z.unknown()),
});
export type ResumeV2 = z.output<typeof resumeV2Schema>;

/** What a continued run reads: the newest version, its settings complete. */
export type ResumeState = Omit<ResumeV2, 'settings'> & { settings: RunSettings };

/** Version 1 to version 2: a run of the first releases ran on the legacy settings. */
export function migrateResumeV1(v1: ResumeV1): ResumeV2 {
  const { dispatched, pendingEvents, ...rest } = v1;
  return {
    ...rest,
    version: 2,
    settings: LEGACY_RUN_SETTINGS,
    // The earliest handovers carried no events, and so no position before them: the cursor's.
    dispatched: dispatched ?? { ...(v1.cursor === undefined ? {} : { cursor: v1.cursor }), offset: 0 },
    pendingEvents: pendingEvents ?? [],
  };
}

/** A handover read and brought to the newest version, or why it cannot be read. */
export type ResumeRead = { success: true; data: ResumeState } | { success: false; issues: z.core.$ZodIssue[] };

/**
 * Reads a handover of any version this code knows and migrates it to the newest; a version it
 * does not know (a newer release's, read by an older worker) is refused, naming `version`.
 */
export function readResume(raw: unknown): ResumeRead {
  const version = typeof raw === 'object' && raw !== null ? (raw as { version?: unknown }).version : undefined;
  if (version === undefined || version === 1) {
    const v1 = resumeV1Schema.safeParse(raw, { reportInput: true });
    return v1.success ? read(migrateResumeV1(v1.data)) : { success: false, issues: v1.error.issues };
  }
  if (version === 2) {
    const v2 = resumeV2Schema.safeParse(raw, { reportInput: true });
    return v2.success ? read(v2.data) : { success: false, issues: v2.error.issues };
  }
  const message =
    typeof version === 'number' && Number.isInteger(version) && version > RESUME_VERSION
      ? `${version} is the handover of a newer arkor-temporal; this worker reads versions 1 to ${RESUME_VERSION}`
      : `must be a handover version, 1 to ${RESUME_VERSION}`;
  return { success: false, issues: [{ code: 'custom', path: ['version'], message, input: version }] };
}

/** The newest version, with the legacy value of every setting the writer did not carry. */
function read(v2: ResumeV2): ResumeRead {
  return { success: true, data: { ...v2, settings: carriedRunSettings(v2.settings) } };
}
