/**
 * The cancel activity against the in-process emulator over real HTTP, with route faults for the
 * answers a healthy emulator does not give. Runs in a MockActivityEnvironment (an activity
 * context, no Temporal server): what matters here is what the activity returns or throws, and
 * whether a thrown failure may be retried.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCancelActivities } from '../activities/cancel.js';
import type { CancelJobInput, CancelJobResult } from '../contract/activities.js';
import { ArkorClient, CloudApiError } from '../arkor/index.js';
import { startEmulator } from '../emulator/index.js';
import type { Emulator } from '../emulator/index.js';

const MODEL = 'unsloth/gemma-4-E4B-it';

let emulator: Emulator;
let client: ArkorClient;
const env = new MockActivityEnvironment();
/** Short confirmation delays: the logic is the same, the test is quicker. */
const cancelJob = (input: CancelJobInput): Promise<CancelJobResult> =>
  env.run(
    (i: CancelJobInput) => createCancelActivities({ arkor: client, goneConfirmDelaysMs: [50, 100] }).cancelJob(i),
    input,
  );

/** A job that stays running for the whole test file. */
async function runningJob(name: string): Promise<string> {
  const job = await client.createJob({
    name,
    config: { model: MODEL, datasetSource: { type: 'huggingface', name: 'org/data' }, maxSteps: 100_000 },
  });
  return job.id;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected a failure');
}

function jobStats(jobId: string) {
  const job = emulator.stats().jobs.find((j) => j.id === jobId);
  assert.ok(job, `job ${jobId} is in the emulator`);
  return job;
}

function requests(route: string): number {
  return emulator.stats().requests[route] ?? 0;
}

before(async () => {
  emulator = await startEmulator({ stepMs: 50 });
  client = new ArkorClient({
    baseUrl: emulator.url,
    token: emulator.token,
    scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
  });
});

after(async () => emulator.close());

describe('cancelJob', () => {
  it('cancels a running job', async () => {
    const jobId = await runningJob('cancel-ok');
    assert.deepEqual(await cancelJob({ jobId, reason: 'test' }), { outcome: 'cancelled', status: 'cancelled' });
    assert.equal(jobStats(jobId).status, 'cancelled');
  });

  it('reports a job that had ended on its own (409, then a read)', async () => {
    const jobId = await runningJob('cancel-twice');
    await client.cancelJob(jobId);
    assert.deepEqual(await cancelJob({ jobId, reason: 'test' }), { outcome: 'already-terminal', status: 'cancelled' });
  });

  it('returns gone for a job that no longer exists: the cancel and three reads, over the confirmation delays, all answer 404', async () => {
    // A job id the backend does not know answers 404 on every route, as a deleted job does.
    const reads = requests('GET /v1/jobs/:id');
    assert.deepEqual(await cancelJob({ jobId: 'deleted-in-the-ui', reason: 'test' }), { outcome: 'gone' });
    assert.equal(requests('GET /v1/jobs/:id'), reads + 3, 'confirmed by three reads, over the confirmation delays');

    // The same through injected 404s on a job that exists: its cancel and every read say 404.
    const jobId = await runningJob('cancel-gone');
    emulator.addRouteFault({ method: 'POST', path: `/v1/jobs/${jobId}/cancel`, status: 404, times: 1 });
    emulator.addRouteFault({ method: 'GET', path: `/v1/jobs/${jobId}`, status: 404, times: 3 });
    assert.deepEqual(await cancelJob({ jobId, reason: 'test' }), { outcome: 'gone' });
  });

  it('retries a 404 that a read contradicts (a replica behind): the job is still there and must be cancelled', async () => {
    const jobId = await runningJob('cancel-lagging');
    // The cancel and the first read miss the job; the read after the first delay finds it.
    emulator.addRouteFault({ method: 'POST', path: `/v1/jobs/${jobId}/cancel`, status: 404, times: 1 });
    emulator.addRouteFault({ method: 'GET', path: `/v1/jobs/${jobId}`, status: 404, times: 1 });
    const failure = await failureOf(cancelJob({ jobId, reason: 'test' }));
    assert.ok(!(failure instanceof ApplicationFailure && failure.nonRetryable), `retryable: ${String(failure)}`);
    assert.match(String(failure), /404/);
    assert.match(String(failure), /still running|still queued/);
    assert.notEqual(jobStats(jobId).status, 'cancelled');
    // The retry cancels it.
    assert.deepEqual(await cancelJob({ jobId, reason: 'test' }), { outcome: 'cancelled', status: 'cancelled' });
  });

  for (const status of [400, 401, 403, 422, 426]) {
    it(`rejects a ${status} for good: a non-retryable ArkorRejected naming the status`, async () => {
      const jobId = await runningJob(`cancel-${status}`);
      emulator.addRouteFault({ method: 'POST', path: `/v1/jobs/${jobId}/cancel`, status, times: 1 });
      const failure = await failureOf(cancelJob({ jobId, reason: 'test' }));
      assert.ok(failure instanceof ApplicationFailure, String(failure));
      assert.equal(failure.type, 'ArkorRejected');
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, new RegExp(`^cancel job ${jobId}: Arkor answered ${status}: `));
      assert.deepEqual(failure.details, [{ status }]);
      assert.notEqual(jobStats(jobId).status, 'cancelled');
      await client.cancelJob(jobId);
    });
  }

  it('leaves a transient answer (503) to the retry policy', async () => {
    const jobId = await runningJob('cancel-503');
    emulator.addRouteFault({ method: 'POST', path: `/v1/jobs/${jobId}/cancel`, status: 503, times: 1 });
    const failure = await failureOf(cancelJob({ jobId, reason: 'test' }));
    assert.ok(failure instanceof CloudApiError && failure.status === 503, String(failure));
    assert.deepEqual(await cancelJob({ jobId, reason: 'test' }), { outcome: 'cancelled', status: 'cancelled' });
  });
});
