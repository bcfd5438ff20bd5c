/**
 * Scheduled retraining on a real dev server with the emulator and an in-process worker:
 * trigger, overlap skip, pause, backfill, create/update/delete, `listRuns`; and the worker's
 * Prometheus endpoint (worker.ts as a child process).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCliArgs } from '../cli/program.js';
import { UsageError } from '../cli/errors.js';
import { listRuns, ScheduleAlreadyExistsError, ScheduleNotFoundError, ScheduleService } from '../service/index.js';
import { InvalidTrainingInputError, type TrainingRunInput } from '../contract/input.js';
import { eventually, startHarness, trainingInput, type Harness } from './support/harness.js';
import { freePort } from '../testing/free-port.js';

const shortInput = (name: string): TrainingRunInput =>
  trainingInput({ trainer: { name, maxSteps: 10, loggingSteps: 1, evalSteps: 5, saveSteps: 5 } });

describe('schedules', () => {
  let h: Harness;
  let schedules: ScheduleService;
  const created = new Set<string>();

  before(async () => {
    h = await startHarness();
    await h.startWorker();
    schedules = new ScheduleService(h.temporal.client, { taskQueue: h.taskQueue });
  });
  after(async () => {
    for (const id of created) await schedules.delete(id).catch(() => undefined);
    await h?.close();
  });

  async function create(
    id: string,
    ...rest: Parameters<ScheduleService['create']> extends [string, ...infer R] ? R : never
  ): Promise<void> {
    await schedules.create(id, ...rest);
    created.add(id);
  }

  /** Waits until the schedule has taken `count` actions, and returns their workflow ids. */
  async function actions(id: string, count: number): Promise<string[]> {
    return eventually(
      async () => {
        const info = await schedules.describe(id);
        return info.numActionsTaken >= count ? info.recentActions.map((action) => action.workflowId) : undefined;
      },
      20_000,
      `${count} actions of ${id}`,
    );
  }

  it('a triggered schedule starts a run that completes and is listed under the schedule', async () => {
    await create('nightly', shortInput('sched-nightly'), { every: '1h' }, { note: 'test' });
    const info = await schedules.describe('nightly');
    assert.equal(info.paused, false);
    assert.equal(info.overlap, 'skip');
    assert.equal(info.catchupWindowMs, 3_600_000);
    assert.equal(info.pauseOnFailure, false);
    assert.deepEqual(info.timing, { every: '1h' });
    assert.deepEqual(info.intervalsMs, [3_600_000]);
    assert.equal(info.numActionsTaken, 0);

    await schedules.trigger('nightly');
    const [workflowId] = await actions('nightly', 1);
    assert.ok(workflowId?.startsWith('sched-nightly-'), workflowId);
    const result = await h.service.outcome(workflowId ?? '');
    assert.equal(result.outcome, 'completed');
    assert.equal(result.status.step, 10);

    const runs = await eventually(
      async () => {
        const listed = await listRuns(h.temporal.client, { schedule: 'nightly' }, { withStatus: true });
        return listed.length === 1 && listed[0]?.status === 'COMPLETED' && listed[0].phase === 'completed'
          ? listed
          : undefined;
      },
      10_000,
      'the run in visibility',
    );
    const run = runs[0];
    assert.equal(run?.workflowId, workflowId);
    assert.equal(run?.scheduleId, 'nightly');
    assert.equal(run?.model, 'unsloth/gemma-4-E4B-it');
    assert.equal(run?.jobId, result.jobId);
    assert.deepEqual(await listRuns(h.temporal.client, { schedule: 'no-such-schedule' }), []);
    const byModelAndPhase = await listRuns(h.temporal.client, { model: 'unsloth/gemma-4-E4B-it', phase: 'completed' });
    assert.ok(byModelAndPhase.some((listed) => listed.workflowId === workflowId));
  });

  it('create of an existing id throws ScheduleAlreadyExistsError; update replaces input, spec and policies', async () => {
    await assert.rejects(create('nightly', shortInput('other'), { every: '2h' }), (error: unknown) => {
      assert.ok(error instanceof ScheduleAlreadyExistsError);
      assert.match(error.message, /schedule nightly already exists.*--update/);
      return true;
    });
    assert.equal((await schedules.describe('nightly')).input?.trainer.name, 'sched-nightly');

    await schedules.update(
      'nightly',
      shortInput('sched-nightly-v2'),
      { cron: ['0 3 * * *'], timezone: 'Europe/Berlin' },
      { overlap: 'buffer-one', catchupWindow: '30m', pauseOnFailure: true },
    );
    const info = await schedules.describe('nightly');
    assert.equal(info.input?.trainer.name, 'sched-nightly-v2');
    assert.deepEqual(info.timing, { cron: ['0 3 * * *'], timezone: 'Europe/Berlin' });
    assert.equal(info.timezone, 'Europe/Berlin');
    assert.deepEqual(info.intervalsMs, []);
    assert.equal(info.overlap, 'buffer-one');
    assert.equal(info.catchupWindowMs, 30 * 60_000);
    assert.equal(info.pauseOnFailure, true);
    assert.equal(info.note, 'test');

    await assert.rejects(
      create('bad-input', trainingInput({ trainer: { maxSteps: 0 } }), { every: '1h' }),
      InvalidTrainingInputError,
    );
    await assert.rejects(schedules.describe('bad-input'), ScheduleNotFoundError);
  });

  it('overlap skip: a trigger while a run is active starts nothing', async () => {
    await create(
      'long',
      trainingInput({ trainer: { name: 'sched-long', maxSteps: 3000, evalSteps: 500, saveSteps: 1000 } }),
      { every: '1h' },
    );
    await schedules.trigger('long');
    const [running] = await actions('long', 1);
    assert.ok(running);
    await eventually(
      async () => ((await h.service.status(running)).step > 2 ? true : undefined),
      20_000,
      'the long run to train',
    );

    await schedules.trigger('long');
    const info = await eventually(
      async () => {
        const described = await schedules.describe('long');
        return described.numActionsSkippedOverlap >= 1 ? described : undefined;
      },
      10_000,
      'the skipped trigger',
    );
    assert.equal(info.numActionsSkippedOverlap, 1);
    assert.equal(info.numActionsTaken, 1);
    assert.deepEqual(
      info.runningActions.map((action) => action.workflowId),
      [running],
    );

    await h.service.stop(running, 'test over');
    assert.equal((await h.service.outcome(running)).outcome, 'stopped');
  });

  it('pause and unpause show in describe; a trigger while paused still starts a run', async () => {
    await create('pausable', shortInput('sched-pausable'), { every: '1h' });
    await schedules.pause('pausable', 'maintenance');
    let info = await schedules.describe('pausable');
    assert.equal(info.paused, true);
    assert.equal(info.note, 'maintenance');
    assert.ok((await schedules.list()).some((entry) => entry.scheduleId === 'pausable' && entry.paused));

    // Temporal treats a manual trigger as an explicit request: the pause applies to the spec only.
    await schedules.trigger('pausable');
    const [workflowId] = await actions('pausable', 1);
    assert.ok(workflowId);
    assert.equal((await h.service.outcome(workflowId)).outcome, 'completed');

    await schedules.unpause('pausable', 'back');
    info = await schedules.describe('pausable');
    assert.equal(info.paused, false);
    assert.equal(info.note, 'back');
  });

  it('backfill over a 3-minute window of a minutely cron starts 3 runs', async () => {
    await create('minutely', shortInput('sched-minutely'), { cron: ['* * * * *'] }, { paused: true });
    // Half a minute past a boundary, so the window holds exactly 3 due times whatever the ends' inclusivity.
    const start = new Date(Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000 + 30_000);
    const end = new Date(start.getTime() + 3 * 60_000);
    await schedules.backfill('minutely', { start, end, overlap: 'allow-all' });
    const runs = await eventually(
      async () => {
        const listed = await listRuns(h.temporal.client, { schedule: 'minutely' });
        return listed.length === 3 && listed.every((run) => run.status === 'COMPLETED') ? listed : undefined;
      },
      30_000,
      'three backfilled runs',
    );
    const due = [1, 2, 3].map((minute) =>
      new Date(start.getTime() - 30_000 + minute * 60_000).toISOString().replace(/\.000Z$/, 'Z'),
    );
    assert.deepEqual(runs.map((run) => run.workflowId).sort(), due.map((time) => `sched-minutely-${time}`).sort());
  });

  it('delete removes the schedule', async () => {
    await schedules.delete('pausable');
    created.delete('pausable');
    await assert.rejects(schedules.describe('pausable'), ScheduleNotFoundError);
    assert.ok(!(await schedules.list()).some((entry) => entry.scheduleId === 'pausable'));
  });

  it('the CLI rejects bad schedule and list flags as usage errors', () => {
    const cases: Array<[string[], RegExp]> = [
      [['schedule'], /Usage: arkor-temporal schedule \[options\] \[command\]/],
      [['schedule', 'frob', 'x'], /unknown command 'frob'/],
      [['schedule', 'create', 'x', '--config', 'a.json'], /exactly one of --cron/],
      [
        ['schedule', 'create', 'x', '--config', 'a.json', '--every', '1h', '--cron', '* * * * *'],
        /exactly one of --cron/,
      ],
      [['schedule', 'create', 'x', '--config', 'a.json', '--every', 'soon'], /--every must be a duration/],
      [
        ['schedule', 'create', 'x', '--config', 'a.json', '--every', '1h', '--overlap', 'never'],
        /argument 'never' is invalid\. Allowed choices are skip, buffer-one,/,
      ],
      [
        ['schedule', 'create', 'x', '--config', 'a.json', '--every', '1h', '--timezone', 'Mars/Base'],
        /not an IANA time zone/,
      ],
      [['schedule', 'update', 'x', '--config', 'a.json', '--every', '1h', '--update'], /unknown option '--update'/],
      [['schedule', 'pause', 'x', '--start', '2025-01-01'], /unknown option '--start'/],
      [
        ['schedule', 'backfill', 'x', '--start', '2025-01-02T00:00:00Z', '--end', '2025-01-01T00:00:00Z'],
        /--start must be before --end/,
      ],
      [
        ['schedule', 'backfill', 'x', '--start', 'yesterday', '--end', '2025-01-01T00:00:00Z'],
        /--start must be an ISO time/,
      ],
      [['schedule', 'delete'], /missing required argument 'schedule-id'/],
      [['schedule', 'delete', 'x!'], /invalid schedule id "x!"/],
      [['list', '--limit', '0'], /--limit must be a whole number/],
      [['list', '--phase', "x' OR 1=1"], /argument 'x' OR 1=1' is invalid\. Allowed choices are submitting,/],
      [['list', '--model', "x' OR 1=1"], /--model must be a non-empty value/],
      [['list', '--every', '1h'], /unknown option '--every'/],
      [['status', 'w', '--cron', '* * * * *'], /unknown option '--cron'/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseCliArgs(argv),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        argv.join(' '),
      );
    }
    assert.deepEqual(
      parseCliArgs([
        'schedule',
        'create',
        'n',
        '--config',
        'a.json',
        '--cron',
        '0 3 * * *',
        '--timezone',
        'UTC',
        '--update',
      ]).command,
      {
        kind: 'schedule-create',
        scheduleId: 'n',
        configPath: 'a.json',
        timing: { cron: ['0 3 * * *'], timezone: 'UTC' },
        overlap: 'skip',
        catchupWindow: '1h',
        pauseOnFailure: false,
        upsert: true,
        json: false,
      },
    );
    assert.deepEqual(parseCliArgs(['list', '--schedule', 'n', '--limit', '5']).command, {
      kind: 'list',
      schedule: 'n',
      limit: 5,
      json: false,
    });
  });
});

describe('worker metrics', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h?.close());

  it('worker.ts with ARKOR_METRICS_PORT serves Temporal metrics in Prometheus format', async () => {
    const port = await freePort();
    const worker = await h.spawnWorker({ ARKOR_METRICS_PORT: String(port) });
    assert.match(worker.output(), new RegExp(`worker ready: .* metrics=http://127\\.0\\.0\\.1:${port}/metrics`));
    const body = await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (response?.status !== 200) return undefined;
        const text = await response.text();
        return /^temporal_\w+/m.test(text) ? text : undefined;
      },
      10_000,
      'the metrics endpoint',
    );
    assert.match(body, /^# TYPE temporal_\w+ /m);
    await worker.kill();
  });
});
