/**
 * A backend service's use of the package, type-checked by scripts/check-package.ts from a fresh
 * install under strict settings (exactOptionalPropertyTypes, a plain ES2022 lib). It is never run.
 */
import { Client, Connection } from '@temporalio/client';
import {
  connectClient,
  defineTrainingRun,
  InvalidTrainingInputError,
  listRuns,
  RunOutcome,
  RunPhase,
  ScheduleService,
  TrainingService,
  type RunResult,
  type RunStatus,
  type TrainingRunInput,
} from 'arkor-temporal';
import { defineCallbacks, definePrecondition, defineScorer, stopRun } from 'arkor-temporal/callbacks';
import { startTestEnvironment, trainingInput } from 'arkor-temporal/testing';
import { createWorker } from 'arkor-temporal/worker';

const input: TrainingRunInput = defineTrainingRun({
  trainer: { name: 'support-bot', model: 'unsloth/gemma-4-E4B-it', dataset: { type: 'huggingface', name: 'org/data' } },
  budget: { maxWallTime: '90 minutes' },
});

export const callbacks = defineCallbacks({
  onLog: ({ step, loss }) => (loss !== null && loss > 10 ? stopRun(`loss ${loss} at step ${step}`) : undefined),
  onCompleted: async ({ job }) => {
    await Promise.resolve(job.id);
  },
});
export const politeness = defineScorer(({ answer }) => (answer.includes('please') ? 1 : 0.5));
export const dataset = definePrecondition(() => ({ revision: 'r1' }));

export async function service(): Promise<RunResult | RunStatus> {
  // The service's own Client (its own @temporalio/client copy is the one the package peers on).
  const client = new Client({
    connection: await Connection.connect({ address: 'localhost:7233' }),
    namespace: 'default',
  });
  const training = new TrainingService(client, { taskQueue: 'arkor-training' });
  try {
    const { workflowId } = await training.start(input, { workflowId: 'nightly' });
    const status = await training.status(workflowId);
    if (status.phase === RunPhase.Running) return status;
    const result = await training.outcome(workflowId);
    return result.outcome === RunOutcome.Completed ? result : status;
  } catch (error) {
    if (error instanceof InvalidTrainingInputError) throw new Error(error.issues.join('; '));
    throw error;
  } finally {
    await listRuns(await connectClient(), { phase: RunPhase.Running });
    new ScheduleService(client);
  }
}

export async function worker(): Promise<void> {
  const running = await createWorker({ callbacks, scorers: { politeness }, preconditions: { dataset } });
  process.once('SIGTERM', () => running.shutdown());
  await running.run();
}

export async function test(): Promise<string> {
  const env = await startTestEnvironment({ emulator: { stepMs: 5 } });
  try {
    const result = await env.runTraining(trainingInput({ trainer: { maxSteps: 12 } }));
    return result.outcome;
  } finally {
    await env.close();
  }
}
