/**
 * Public contract of the local Arkor cloud-api emulator: what tests, benchmarks and the
 * standalone command can ask of it. Everything here is JSON-serialisable so the same plans can
 * be sent over the control API (`/_emulator/*`) to an emulator running as a child process.
 */

/** How one stream connection misbehaves. Each stream open of a job consumes the next entry. */
export type StreamConnectionFault =
  /** Fail the open with this status (and JSON body `{ error }`); `retryAfterSeconds` sets `Retry-After`. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; error?: string }
  /** Deliver `afterFrames` data frames after the cursor, then end the response cleanly or destroy the socket. */
  | { kind: 'drop'; afterFrames: number; mode: 'clean' | 'reset' }
  /** Send `pings` ping frames (every `intervalMs`, default 10 ms) and then close cleanly, no data frame. */
  | { kind: 'pingOnly'; pings: number; intervalMs?: number }
  /** Send bytes that are not SSE and frames whose data is not JSON, then close cleanly. */
  | { kind: 'garbage' }
  /** Send the 200 headers and then nothing at all, keeping the socket open until the client leaves. */
  | { kind: 'stall' }
  /** 200 with `text/event-stream` and an empty body. */
  | { kind: 'empty' }
  /** Write exactly these bytes as the body, then close cleanly (for frame-grammar tests). */
  | { kind: 'raw'; body: string }
  /** Wait `ms` before answering the open (slower than a client's timeout), then behave normally. */
  | { kind: 'slow'; ms: number };

/** A scripted behaviour for one job: faults and training outcome. All fields optional. */
export interface JobBehaviour {
  /** Consumed one per stream open, in order; once exhausted, connections are healthy. */
  streamConnections?: StreamConnectionFault[];
  /** The first N stream opens answer 404 (the stream of a new job is not visible yet). */
  notVisibleForOpens?: number;
  /** Store the job, then destroy the socket of the create request without answering. */
  loseCreateResponse?: boolean;
  /** Emit `training.failed` with this error at this step (instead of the log of that step). */
  failAtStep?: { step: number; error: string };
  /** From this step on, `loss` is written as the bare token `NaN` (as Python's json.dumps does). */
  nanLossFromStep?: number;
  /** Model quality in [0, 1] reached at the end of training (default 0.9); base model is 0.1. */
  finalQuality?: number;
  /** From this step on the model gets worse: quality falls linearly to `quality` at the last step. */
  regressFromStep?: { step: number; quality: number };
  /** Slow start: milliseconds between create and `training.started` (default one step). */
  queueMs?: number;
}

/** A fault on any HTTP route, matched by method and path (exact path, without query string). */
export interface RouteFault {
  method: string;
  path: string;
  /**
   * Answer this status with `{ error }` (or, for `reset`, destroy the socket). Absent: after
   * `delayMs` the request is served normally (a slow but successful response).
   */
  status?: number | 'reset';
  retryAfterSeconds?: number;
  /** How many matching requests are affected (default: all). */
  times?: number;
  /** Delay before answering, in ms. */
  delayMs?: number;
}

/** Where a behaviour applies. */
export type BehaviourTarget =
  | { kind: 'nextJob' }
  | { kind: 'jobId'; jobId: string }
  /** Every job created later whose name contains this text. */
  | { kind: 'nameContains'; text: string }
  /** Every job created later. */
  | { kind: 'allJobs' };

export interface EmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Bearer token accepted. Default `emulator-token`. */
  token?: string;
  /** Org the token belongs to. Default `local-org`. */
  orgSlug?: string;
  /** Project in that org. Default `local-project`. */
  projectSlug?: string;
  /** Wall-clock milliseconds per simulated training step; fractions allowed. Default 50. */
  stepMs?: number;
  /** Interval of `event: ping` frames on open streams. Default 15000. */
  pingIntervalMs?: number;
  /** Lowest accepted `X-Arkor-Client` version (semver). Default `0.0.1`. */
  minClientVersion?: string;
  /** Versions below this (but accepted) get `Deprecation`/`Warning`/`Sunset` headers. */
  deprecatedBelowVersion?: string;
  /** Seed of the loss noise and of the fake model. Default 1. */
  seed?: number;
  /** Print one line per request to stderr. Default false. */
  verbose?: boolean;
}

/** Counters the tests assert on. */
export interface EmulatorJobRecord {
  id: string;
  name: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  createdAt: string;
  /** Number of `POST /v1/jobs/:id/cancel` requests that were answered 2xx. */
  cancelsAccepted: number;
  /** Number of cancel requests answered 409 because the job was already terminal. */
  cancelsRejected: number;
  /** `Last-Event-ID` of every stream open, in order (null when absent). */
  streamOpens: Array<string | null>;
  /** Number of data frames stored for the job (its event history length). */
  eventCount: number;
  step: number;
}

export interface EmulatorStats {
  jobs: EmulatorJobRecord[];
  /** Requests by `METHOD path-template`, e.g. `POST /v1/jobs`. */
  requests: Record<string, number>;
}
