/**
 * The job event stream J5 (`GET /v1/jobs/:id/events/stream`, docs/arkor-protocol.md §5): replay after
 * the `Last-Event-ID` cursor, live tail, pings, terminal close, and the scripted connection faults.
 */
import type { ServerResponse } from 'node:http';
import type { Accounts } from './accounts.js';
import type { Lifecycle, RequestContext, Route } from './context.js';
import { HttpError, sleep } from './http.js';
import { jobInScope } from './job-routes.js';
import type { JobRecord, JobStore, StoredEvent } from './jobs.js';
import type { StreamConnectionFault } from './types.js';

/** Frame names after which the server ends the response. */
const TERMINAL_EVENTS: ReadonlySet<string> = new Set(['training.completed', 'training.failed', 'end']);

/** The keepalive frame: a `data:` line so SSE parsers deliver it, and no id so it never moves a cursor. */
export const PING_FRAME = 'event: ping\ndata: \n\n';

/** Bytes of a `garbage` connection: a line that is not SSE, then a frame whose data is not JSON. */
export const GARBAGE_BODY = 'this is not sse\n\nevent: training.log\ndata: {not json\n\n';

/** Default interval between the pings of a `pingOnly` connection. */
const DEFAULT_PING_ONLY_INTERVAL_MS = 10;

/** Serialises one stored event as an SSE frame. */
export function formatFrame(event: StoredEvent): string {
  return `id: ${event.id}\nevent: ${event.event}\ndata: ${event.data}\n\n`;
}

function openSse(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
}

/** How a stream response ends: `end` = clean close, `reset` = destroyed socket. */
type Ending = 'end' | 'reset';

interface Session {
  res: ServerResponse;
  lifecycle: Lifecycle;
  /** Runs `teardown` and ends the response exactly once. */
  finish(ending: Ending): void;
  /** Adds work to undo when the session finishes (timers, subscriptions). */
  onFinish(teardown: () => void): void;
}

/** Ties a response to the lifecycle so `close()` and client departure end it exactly once. */
function session(res: ServerResponse, lifecycle: Lifecycle): Session {
  const teardowns: Array<() => void> = [];
  let finished = false;
  const s: Session = {
    res,
    lifecycle,
    finish(ending) {
      if (finished) return;
      finished = true;
      for (const t of teardowns) t();
      if (ending === 'reset') res.socket?.destroy();
      else res.end();
    },
    onFinish(teardown) {
      teardowns.push(teardown);
    },
  };
  s.onFinish(lifecycle.track(() => s.finish('reset')));
  res.on('close', () => s.finish('reset'));
  return s;
}

/** Replays after the cursor, then tails; ends after a terminal frame or the `drop` fault. */
function serveEvents(
  s: Session,
  jobs: JobStore,
  record: JobRecord,
  lastEventId: string | null,
  pingIntervalMs: number,
  drop: { afterFrames: number; mode: 'clean' | 'reset' } | undefined,
): void {
  const ending: Ending = drop?.mode === 'reset' ? 'reset' : 'end';
  let sent = 0;
  let done = false;
  s.onFinish(() => {
    done = true;
  });
  const write = (event: StoredEvent): void => {
    if (done) return;
    sent += 1;
    if (!TERMINAL_EVENTS.has(event.event) && drop && sent >= drop.afterFrames && ending === 'reset') {
      // Destroy only once the frame has reached the socket, or the client would not see it.
      done = true;
      s.res.write(formatFrame(event), () => s.finish('reset'));
      return;
    }
    s.res.write(formatFrame(event));
    if (TERMINAL_EVENTS.has(event.event)) s.finish('end');
    else if (drop && sent >= drop.afterFrames) s.finish(ending);
  };
  if (drop && drop.afterFrames <= 0) {
    s.finish(ending);
    return;
  }
  for (const event of jobs.eventsAfter(record, lastEventId)) {
    write(event);
    if (done) return;
  }
  // The cursor was at or past the terminal frame: nothing will ever follow.
  if (jobs.isTerminal(record)) {
    s.finish('end');
    return;
  }
  s.onFinish(jobs.subscribe(record, write));
  const ping = setInterval(() => {
    if (!done) s.res.write(PING_FRAME);
  }, pingIntervalMs);
  s.onFinish(() => clearInterval(ping));
}

function servePingOnly(s: Session, pings: number, intervalMs: number): void {
  let left = pings;
  if (left <= 0) {
    s.finish('end');
    return;
  }
  const timer = setInterval(() => {
    s.res.write(PING_FRAME);
    left -= 1;
    if (left <= 0) s.finish('end');
  }, intervalMs);
  s.onFinish(() => clearInterval(timer));
}

function faultStatusMessage(status: number): string {
  if (status === 429) return 'rate limited';
  if (status >= 500) return 'internal error (injected)';
  return `injected status ${status}`;
}

/** Route J5. */
export function eventStreamRoute(deps: {
  accounts: Accounts;
  jobs: JobStore;
  lifecycle: Lifecycle;
  pingIntervalMs: number;
}): Route {
  const { accounts, jobs, lifecycle, pingIntervalMs } = deps;
  return {
    method: 'GET',
    template: '/v1/jobs/:id/events/stream',
    auth: 'user',
    async handle(ctx: RequestContext) {
      const record = jobInScope(accounts, jobs, ctx);
      const header = ctx.req.headers['last-event-id'];
      // An empty header is what a client without a cursor might send; treat it as absent.
      const lastEventId = typeof header === 'string' && header !== '' ? header : null;
      record.streamOpens.push(lastEventId);

      const hidden = record.behaviour.notVisibleForOpens ?? 0;
      if (hidden > 0) {
        record.behaviour.notVisibleForOpens = hidden - 1;
        throw new HttpError(404, 'not found');
      }

      let fault: StreamConnectionFault | undefined = record.behaviour.streamConnections?.shift();
      if (fault?.kind === 'status') {
        const headers: Record<string, string> =
          fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
        throw new HttpError(fault.status, fault.error ?? faultStatusMessage(fault.status), {}, headers);
      }
      if (fault?.kind === 'slow') {
        await sleep(fault.ms, ctx.signal);
        if (ctx.signal.aborted) return;
        fault = undefined;
      }

      openSse(ctx.res);
      const s = session(ctx.res, lifecycle);
      switch (fault?.kind) {
        case 'empty':
          s.finish('end');
          return;
        case 'raw':
          ctx.res.write(fault.body);
          s.finish('end');
          return;
        case 'garbage':
          ctx.res.write(GARBAGE_BODY);
          s.finish('end');
          return;
        case 'stall':
          // Headers only; the session ends when the client leaves or the emulator closes.
          return;
        case 'pingOnly':
          servePingOnly(s, fault.pings, fault.intervalMs ?? DEFAULT_PING_ONLY_INTERVAL_MS);
          return;
        case 'drop':
          serveEvents(s, jobs, record, lastEventId, pingIntervalMs, {
            afterFrames: fault.afterFrames,
            mode: fault.mode,
          });
          return;
        case undefined:
          serveEvents(s, jobs, record, lastEventId, pingIntervalMs, undefined);
          return;
      }
    },
  };
}
