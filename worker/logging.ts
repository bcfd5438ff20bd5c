/**
 * The worker's logger (README "Logs"), installed with the Runtime: the SDK's text logger at
 * ARKOR_LOG_LEVEL, or with ARKOR_LOG_FORMAT=json one JSON object a line on stdout
 * (service/logging.ts), for workflow, activity, worker and (forwarded) core records alike.
 *
 * Records locate themselves with the SDK's log attributes (workflow id, run id, activity type)
 * and the run's Arkor job id: an activity's records carry the job its input names (the
 * interceptor below), and a workflow's carry the job of the last activity of that run this
 * process executed (none before its first, the submit).
 */
import { formatWithOptions } from 'node:util';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { DefaultLogger, type LogEntry, type Logger } from '@temporalio/worker';
import { jsonLogLine, printable, type LogSettings } from '../service/logging.js';

/**
 * The logger `installWorkerRuntime` installs; `write` gets each line (default: JSON lines on
 * stdout, text on stderr as the SDK writes it). Either way a record's fields pass through
 * `printable` first: at debug level the SDK logs whole option objects (a payload codec and its
 * key bytes among them), which must print as `[32 bytes]`, not as the key.
 */
export function workerLogger(settings: LogSettings, write?: (line: string) => void): Logger {
  if (settings.format === 'json') {
    const out = write ?? ((line: string) => void process.stdout.write(line));
    return new DefaultLogger(settings.level, (entry: LogEntry) => out(`${jsonLogLine(recordOf(entry))}\n`));
  }
  const out = write ?? ((line: string) => void process.stderr.write(line));
  const colors = write === undefined && process.stderr.hasColors?.() === true;
  return new DefaultLogger(settings.level, (entry: LogEntry) => {
    const { message, meta } = recordOf(entry);
    const date = new Date(Number(entry.timestampNanos / 1_000_000n));
    const fields = meta === undefined ? '' : ` ${formatWithOptions({ colors }, printable(meta))}`;
    out(`${formatWithOptions({ colors }, date)} [${entry.level}] ${message}${fields}\n`);
  });
}

function recordOf(entry: LogEntry): Parameters<typeof jsonLogLine>[0] {
  const meta = entry.meta;
  const workflowId = typeof meta?.workflowId === 'string' ? meta.workflowId : undefined;
  const jobId: unknown = meta?.jobId ?? (workflowId === undefined ? undefined : jobIds.get(workflowId));
  return {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)),
    level: entry.level,
    message: entry.message,
    meta: jobId === undefined ? meta : { ...meta, jobId },
  };
}

/** Job ids by workflow id, of the runs whose activities this process executed lately. */
const jobIds = new Map<string, string>();
const MAX_REMEMBERED = 10_000;

function rememberJob(workflowId: string | undefined, jobId: string | undefined): void {
  if (workflowId === undefined || jobId === undefined) return;
  jobIds.delete(workflowId);
  jobIds.set(workflowId, jobId);
  if (jobIds.size > MAX_REMEMBERED) jobIds.delete(jobIds.keys().next().value ?? '');
}

/** The Arkor job an activity's argument or result names: `jobId`, `job.id`, `target.jobId`. */
export function jobIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { jobId, job, target } = value as { jobId?: unknown; job?: { id?: unknown }; target?: { jobId?: unknown } };
  if (typeof jobId === 'string') return jobId;
  if (typeof job?.id === 'string') return job.id;
  if (typeof target?.jobId === 'string') return target.jobId;
  return undefined;
}

/** Adds the job id to an activity's log records, and remembers it for its workflow's records. */
export const jobLogAttributesInterceptor: ActivityInterceptorsFactory = (context) => {
  const workflowId = context.info.workflowExecution?.workflowId;
  let jobId: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        jobId = jobIdOf(input.args[0]);
        rememberJob(workflowId, jobId);
        const result: unknown = await next(input);
        // The submit names the job only in its result.
        if (jobId === undefined) rememberJob(workflowId, (jobId = jobIdOf(result)));
        return result;
      },
    },
    outbound: {
      getLogAttributes: (attributes, next) => next(jobId === undefined ? attributes : { ...attributes, jobId }),
    },
  };
};
