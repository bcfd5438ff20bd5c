/**
 * A deploy under in-flight runs, on a real dev server with Worker Versioning: version A (the
 * current workflow code) serves runs; version B (the same code and one command more at the start
 * of every run: test/support/workflow-variant.ts) starts on the same task queue and is made
 * current with `arkor-temporal deploy set-current`. A run that continues as new goes on pinned to
 * A, without one failed workflow task, and moves to B at its next continue-as-new; a run waiting
 * for approval finishes on A, its notification too; new runs start on B; every event reaches its
 * callback exactly once across the switch; `deploy status` shows A drain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import proto from '@temporalio/proto';
import type { TrainingRunInput } from '../contract/input.js';
import type { DeploymentView } from '../service/deployments.js';
import { TrainingService } from '../service/training-service.js';
import { workflowBuildId } from '../worker/bundle.js';
import { startWebhookReceiver, type WebhookReceiver } from '../testing/webhook-receiver.js';
import type { TestWorker } from '../testing/worker.js';
import {
  eventually,
  expectedEventKeys,
  runClient,
  startHarness,
  trainingInput,
  type EventPlan,
  type Harness,
} from './support/harness.js';
import { buildWorkflowVariant, CODE_VARIANT_MEMO } from './support/workflow-variant.js';

const { EventType, VersioningBehavior } = proto.temporal.api.enums.v1;
const Pinned = VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;
const AutoUpgrade = VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE;

/** One run of a workflow id, as its history tells it. */
interface RunView {
  runId: string;
  startedAt: Date;
  closedAt: Date | undefined;
  /** When each workflow task completed, the build id of the worker that completed it, and the behavior it reported. */
  tasks: Array<{ at: Date; buildId: string | undefined; behavior: number | null | undefined }>;
  failedTasks: number;
  /** The build ids of the workers that completed its tasks. */
  builds: Set<string | undefined>;
  /** The variant memo: which code ran it (undefined: the current code). */
  variant: unknown;
  /** The version the server has the run on. */
  pinnedTo: string | undefined;
  /** Its behavior as the server has it: the one its last task reported. */
  behavior: number | null | undefined;
  continuedAsNew: boolean;
}

function timeOf(timestamp: proto.google.protobuf.ITimestamp | null | undefined): Date {
  return new Date(Number(timestamp?.seconds ?? 0) * 1000 + Math.floor((timestamp?.nanos ?? 0) / 1e6));
}

async function runView(h: Harness, workflowId: string, runId: string): Promise<RunView> {
  const handle = h.temporal.client.workflow.getHandle(workflowId, runId);
  const events = (await handle.fetchHistory()).events ?? [];
  const tasks = events
    .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((event) => {
      const attributes = event.workflowTaskCompletedEventAttributes;
      const buildId =
        attributes?.deploymentVersion?.buildId ?? attributes?.workerDeploymentVersion?.split('.').slice(1).join('.');
      return { at: timeOf(event.eventTime), buildId: buildId || undefined, behavior: attributes?.versioningBehavior };
    });
  const description = await handle.describe();
  const versioning = description.raw.workflowExecutionInfo?.versioningInfo;
  return {
    runId,
    startedAt: timeOf(events[0]?.eventTime),
    closedAt: description.closeTime,
    tasks,
    failedTasks: events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length,
    continuedAsNew: events.at(-1)?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    builds: new Set(tasks.map((task) => task.buildId)),
    variant: description.memo?.[CODE_VARIANT_MEMO],
    pinnedTo: versioning?.deploymentVersion?.buildId ?? undefined,
    behavior: versioning?.behavior,
  };
}

/** Every run of a workflow id, oldest first, once visibility lists at least `expected`. */
async function runsOf(h: Harness, workflowId: string, expected: number): Promise<RunView[]> {
  const runIds = await eventually(
    async () => {
      const runs: Array<{ runId: string; startTime: Date }> = [];
      for await (const execution of h.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
        runs.push({ runId: execution.runId, startTime: execution.startTime });
      return runs.length >= expected ? runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime()) : undefined;
    },
    30_000,
    `visibility to list ${expected} runs of ${workflowId}`,
  );
  return Promise.all(runIds.map(({ runId }) => runView(h, workflowId, runId)));
}

function describeRuns(runs: readonly RunView[]): string {
  return runs
    .map(
      (run) =>
        `${run.startedAt.toISOString()} ${[...run.builds].join('+')} tasks=${run.tasks.length} failed=${run.failedTasks} variant=${String(run.variant)}`,
    )
    .join('\n');
}

describe('a deploy under in-flight runs (Worker Versioning)', () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  let buildA: string;
  let buildB: string;
  let workerA: TestWorker;
  let bundleB: string;
  let deployment: string;
  /** When B became current, as the server recorded it. */
  let switchedAt: Date;
  /** The run that continues as new across the switch, and the one that waits for approval. */
  let continuing: { workflowId: string; plan: EventPlan };
  let waiting: { workflowId: string; plan: EventPlan };

  const deploy = async (...args: string[]) => runClient(h, ['deploy', ...args, '--deployment', deployment]);
  const deployStatus = async (): Promise<DeploymentView> => {
    const run = await deploy('status', '--json');
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as DeploymentView;
  };
  const versionOf = (view: DeploymentView, buildId: string) => view.versions.find((v) => v.buildId === buildId);

  before(async () => {
    receiver = await startWebhookReceiver();
    // Slow enough that a run trains for half a minute, continuing as new every second or so.
    h = await startHarness({ stepMs: 10 });
    deployment = h.taskQueue;
    buildA = await workflowBuildId();
    buildB = `${buildA}-next`;
    bundleB = await buildWorkflowVariant('B');
  });
  after(async () => {
    await h?.close();
    await receiver?.close();
  });

  const workerOptions = () => ({
    stream: { logBatchMaxEvents: 5, logBatchMaxDelayMs: 20 },
    notificationChannels: new Map([['team', { kind: 'webhook' as const, url: `${receiver.url}/hooks/team` }]]),
  });

  it('keeps runs on the version they started on, moves a continuing run at its next continue-as-new, starts new runs on the new version', async () => {
    // Version A: the first version of a fresh deployment makes itself current.
    workerA = await h.startWorker({ ...workerOptions(), versioning: { buildId: buildA } });
    assert.equal(workerA.readiness?.currentBuildId, buildA);
    assert.equal(workerA.readiness?.madeCurrent, true);

    continuing = {
      workflowId: 'continuing',
      plan: { maxSteps: 3000, loggingSteps: 5, evalSteps: 500, saveSteps: 1000 },
    };
    waiting = { workflowId: 'waiting', plan: { maxSteps: 20, loggingSteps: 1, evalSteps: 10, saveSteps: 10 } };
    const continuingInput: TrainingRunInput = trainingInput({
      trainer: { name: 'continuing', ...continuing.plan },
      continueAsNew: { afterSignals: 40 },
    });
    const waitingInput: TrainingRunInput = trainingInput({
      trainer: { name: 'waiting', ...waiting.plan },
      approval: { timeout: '10m' },
      promotion: { deployment: 'waiting-bot', create: true },
      notifications: { channels: ['team'] },
    });
    await h.service.start(continuingInput, { workflowId: continuing.workflowId });
    await h.service.start(waitingInput, { workflowId: waiting.workflowId });
    // A's runs continue as new on A while A is current (a pinned run keeps its version then too).
    await eventually(
      async () => ((await h.service.status(continuing.workflowId)).runNumber >= 2 ? true : undefined),
      60_000,
      'a continue-as-new on A',
    );
    await eventually(
      async () => ((await h.service.status(waiting.workflowId)).phase === 'awaiting-approval' ? true : undefined),
      60_000,
      'the waiting run to await approval',
    );

    // Version B: its workers poll the same queues; it takes nothing until it is current.
    const workerB = await h.startWorker({
      ...workerOptions(),
      workflowBundle: { code: bundleB },
      versioning: { buildId: buildB, becomeCurrent: 'never' },
    });
    assert.equal(workerB.readiness?.currentBuildId, buildA);
    assert.equal(workerB.readiness?.madeCurrent, false);
    const switched = await deploy('set-current', buildB);
    assert.equal(switched.code, 0, switched.stderr);
    assert.match(
      switched.stdout,
      new RegExp(`${buildB} is the current version of ${deployment}; runs pinned to ${buildA}`),
    );
    const currentSince = versionOf(await deployStatus(), buildB)?.currentSince;
    assert.ok(currentSince);
    switchedAt = new Date(currentSince);
    const atSwitch = (await h.service.status(continuing.workflowId)).runNumber;
    console.log(`[versioning] switched to B during run ${atSwitch} of the continuing run`);

    const result = await h.service.outcome(continuing.workflowId);
    assert.equal(result.outcome, 'completed');
    assert.ok(result.status.runNumber > atSwitch, 'the run continued as new after the switch');
    const runs = await runsOf(h, continuing.workflowId, result.status.runNumber);
    console.log(`[versioning] the continuing run:\n${describeRuns(runs)}`);
    assert.equal(runs.length, result.status.runNumber);
    for (const run of runs) {
      assert.equal(run.failedTasks, 0, `no workflow task failed in run ${run.runId}`);
      // Never moved within a run: every task of a run on one version, run by that version's code.
      assert.equal(run.builds.size, 1, `run ${run.runId} ran on ${[...run.builds].join(', ')}`);
      const build = [...run.builds][0];
      assert.ok(build === buildA || build === buildB, `run ${run.runId} ran on ${String(build)}`);
      assert.equal(run.variant, build === buildB ? 'B' : undefined, `the code of run ${run.runId}`);
      assert.equal(run.pinnedTo, build);
      // PINNED throughout; a run that continues as new reports AUTO_UPGRADE with its last task,
      // the one that continues it, so that its continuation starts on the current version
      // (workflows/versioning.ts).
      const behaviors = run.tasks.map((task) => task.behavior);
      assert.ok(
        behaviors.slice(0, -1).every((behavior) => behavior === Pinned),
        `run ${run.runId}: ${behaviors.join()}`,
      );
      assert.equal(behaviors.at(-1), run.continuedAsNew ? AutoUpgrade : Pinned, `run ${run.runId}`);
    }
    assert.equal(runs.at(-1)?.behavior, Pinned, 'the last run is pinned to B');
    // A's runs, then B's: the move happens once, at a continue-as-new after the switch.
    const onB = runs.findIndex((run) => run.builds.has(buildB));
    assert.ok(onB > 0, 'the run started on A and moved to B');
    assert.ok(runs.slice(onB).every((run) => run.builds.has(buildB)));
    const lastOnA = runs[onB - 1]!;
    assert.ok(runs[onB]!.startedAt > switchedAt, 'the first run on B is a continuation after the switch');
    // Pinned: the run in flight at the switch went on on A while B was current.
    console.log(
      `[versioning] the last run on A started ${switchedAt.getTime() - lastOnA.startedAt.getTime()} ms before the switch, ` +
        `the first on B ${runs[onB]!.startedAt.getTime() - switchedAt.getTime()} ms after it`,
    );
    assert.ok(
      lastOnA.tasks.some((task) => task.at > switchedAt),
      'the run in flight at the switch completed workflow tasks on A after it',
    );

    // Every event exactly once, on the one backend job, across both versions.
    const keys = h.recordsOf(result.jobId!).map((record) => record.key);
    assert.deepEqual([...keys].sort(), expectedEventKeys(result.jobId!, continuing.plan).sort());
    const jobs = h.emulator.stats().jobs.filter((job) => job.name.startsWith('continuing '));
    assert.equal(jobs.length, 1);

    // A new run starts on B.
    const fresh = await h.service.start(trainingInput({ trainer: { name: 'fresh-on-b' } }), { workflowId: 'fresh' });
    const freshResult = await h.service.outcome(fresh.workflowId);
    assert.equal(freshResult.outcome, 'completed');
    const [freshRun] = await runsOf(h, fresh.workflowId, 1);
    assert.deepEqual([...freshRun!.builds], [buildB]);
    assert.equal(freshRun!.variant, 'B');
    assert.equal(freshRun!.behavior, Pinned);
    assert.equal(freshRun!.failedTasks, 0);
    const freshKeys = h.recordsOf(freshResult.jobId!).map((record) => record.key);
    assert.deepEqual(
      [...freshKeys].sort(),
      expectedEventKeys(freshResult.jobId!, { maxSteps: 30, evalSteps: 10, saveSteps: 10 }).sort(),
    );
  });

  it('finishes a pinned run that never continues as new on its version, and deploy status shows that version drain', async () => {
    // Still waiting for approval, pinned to A: A is no longer current but has a run.
    const during = await eventually(
      async () => {
        const view = await deployStatus();
        return versionOf(view, buildA)?.pinnedRunning === 1 ? view : undefined;
      },
      30_000,
      'deploy status to count the waiting run on A',
    );
    assert.equal(during.currentBuildId, buildB);
    assert.equal(versionOf(during, buildA)?.status, 'draining');
    assert.equal(versionOf(during, buildB)?.status, 'current');
    const text = await deploy('status');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^current +${buildB}$`, 'm'));
    assert.match(text.stdout, new RegExp(`^${buildA} +draining +1 .*keep its workers`, 'm'));

    await h.service.decide(waiting.workflowId, { approved: true, by: 'release-manager' });
    const result = await h.service.outcome(waiting.workflowId);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.status.promotion?.verified, true, 'promoted, by activities on A after the switch');
    const [run] = await runsOf(h, waiting.workflowId, 1);
    assert.deepEqual([...run!.builds], [buildA]);
    assert.equal(run!.variant, undefined);
    assert.equal(run!.failedTasks, 0);
    assert.ok(
      run!.tasks.some((task) => task.at > switchedAt),
      'the approval was handled on A, after the switch',
    );
    const keys = h.recordsOf(result.jobId!).map((record) => record.key);
    assert.deepEqual([...keys].sort(), expectedEventKeys(result.jobId!, waiting.plan).sort());

    // Its notification, a child workflow, ran on A too.
    await eventually(() => (receiver.requests.length > 0 ? true : undefined), 30_000, 'the notification');
    const children: string[] = [];
    for await (const execution of h.temporal.client.workflow.list({
      query: `WorkflowType = 'notificationDelivery' AND ExecutionStatus = 'Completed'`,
    }))
      children.push(execution.workflowId);
    assert.ok(children.length > 0);
    for (const child of children) {
      const [childRun] = await runsOf(h, child, 1);
      assert.deepEqual([...childRun!.builds], [buildA], `notification ${child}`);
      assert.equal(childRun!.behavior, Pinned);
    }

    // Drained: nothing left on A, by our count and then by the server's own check.
    const drained = await eventually(
      async () => {
        const view = await deployStatus();
        const a = versionOf(view, buildA);
        return a?.pinnedRunning === 0 && a.drainage === 'drained' ? view : undefined;
      },
      60_000,
      'version A to drain',
    );
    assert.equal(versionOf(drained, buildA)?.status, 'drained');
    assert.match((await deploy('status')).stdout, new RegExp(`^${buildA} +drained +0 .*its workers can stop`, 'm'));
    await workerA.stop();
  });

  it('runs unversioned with versioning off: no behavior reported, continue-as-new as before', async () => {
    const taskQueue = `${h.taskQueue}-unversioned`;
    const worker = await h.startWorker({ ...workerOptions(), taskQueue, versioning: false });
    assert.equal(worker.version, undefined);
    const service = new TrainingService(h.temporal.client, { taskQueue });
    // Six seconds of training: long enough to continue as new while the stream is live.
    const plan = { maxSteps: 600, loggingSteps: 1, evalSteps: 300, saveSteps: 300 };
    const { workflowId } = await service.start(
      trainingInput({ trainer: { name: 'unversioned', ...plan }, continueAsNew: { afterSignals: 5 } }),
    );
    const result = await service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    assert.ok(result.status.runNumber > 1, `continued as new: ${result.status.runNumber} runs`);
    const runs = await runsOf(h, workflowId, result.status.runNumber);
    for (const run of runs) {
      assert.equal(run.failedTasks, 0);
      assert.deepEqual([...run.builds], [undefined]);
      assert.ok(
        run.tasks.every((task) => !task.behavior),
        `run ${run.runId} reported no versioning behavior`,
      );
    }
    const keys = h.recordsOf(result.jobId!).map((record) => record.key);
    assert.deepEqual([...keys].sort(), expectedEventKeys(result.jobId!, plan).sort());
    await worker.stop();
  });

  it('ramps and unramps a version; refuses an unknown version or deployment', async () => {
    const ramped = await deploy('ramp', buildA, '25');
    assert.equal(ramped.code, 0, ramped.stderr);
    assert.deepEqual((await deployStatus()).ramping, { buildId: buildA, percent: 25 });
    const unramped = await deploy('unramp');
    assert.equal(unramped.code, 0, unramped.stderr);
    assert.equal((await deployStatus()).ramping, undefined);

    const unknown = await deploy('set-current', 'no-such-build');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`^error: deployment ${deployment} has no version no-such-build`, 'm'));
    const nowhere = await runClient(h, ['deploy', 'status', '--deployment', 'no-such-deployment']);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /no worker deployment named no-such-deployment/);
    const badPercent = await deploy('ramp', buildA, '120');
    assert.equal(badPercent.code, 2);
  });
});
