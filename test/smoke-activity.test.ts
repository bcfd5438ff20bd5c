/**
 * The smoke-test activity with the real client over HTTP against the in-process emulator: scores
 * follow the fake model's quality (base < early checkpoint < final, regressions), JSON answers,
 * bad adapters, deployments through the edge, and transient failures that must be retried.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { BUILTIN_SCORERS } from '../extensions/scorers.js';
import type { Scorer } from '../extensions/scorers.js';
import { createSmokeActivities } from '../activities/smoke.js';
import type { DeploymentKeyReader } from '../activities/smoke.js';
import { ArkorClient, CloudApiError } from '../arkor/index.js';
import { DEMO_QUESTIONS, expectedAnswer, generateAnswer, startEmulator } from '../emulator/index.js';
import type { Emulator } from '../emulator/index.js';
import type { SmokeTarget, SmokeTestInput } from '../contract/evaluation.js';
import { goldenPromptSchema } from '../contract/input.js';
import type { GoldenPrompt } from '../contract/input.js';

const SEED = 3;
const MODEL = 'unsloth/gemma-4-E4B-it';
/** 40 steps saving every 10: checkpoint 10 has quality 0.3 (wrong answers), the final 0.9. */
const MAX_STEPS = 40;
const SAVE_STEPS = 10;

let emu: Emulator;
let arkor: ArkorClient;

/** Fraction of answer words in the place the best possible answer has them (the fake model's fluency). */
const fluency: Scorer = ({ answer, prompt }) => {
  const question = prompt.messages.at(-1)?.content ?? '';
  const best = generateAnswer(question, 1, SEED).split(' ');
  return answer.split(' ').filter((word, i) => best[i] === word).length / best.length;
};

const scorers = new Map<string, Scorer>([
  ...BUILTIN_SCORERS,
  ['fluency', fluency],
  [
    'boom',
    () => {
      throw new Error('scorer bug');
    },
  ],
]);

function golden(raw: Record<string, unknown>): GoldenPrompt {
  return goldenPromptSchema.parse(raw);
}

/** One prompt per demo question, expecting its right answer. */
const demoPrompts: GoldenPrompt[] = DEMO_QUESTIONS.map((q, i) =>
  golden({
    name: `demo-${i}`,
    messages: [{ role: 'user', content: q.prompt }],
    expect: { contains: expectedAnswer(q.prompt) },
  }),
);

/** The same questions scored on fluency, which grows with quality even below the right-answer threshold. */
const fluencyPrompts: GoldenPrompt[] = DEMO_QUESTIONS.map((q, i) =>
  golden({ name: `fluency-${i}`, messages: [{ role: 'user', content: q.prompt }], expect: { scorer: 'fluency' } }),
);

function activities(keys?: DeploymentKeyReader) {
  return createSmokeActivities({
    arkor,
    scorers,
    ...(keys ? { deploymentKeys: keys } : {}),
  });
}

async function smoke(target: SmokeTarget, prompts: GoldenPrompt[] = demoPrompts, keys?: DeploymentKeyReader) {
  return activities(keys).smokeTest({ target, prompts });
}

async function trainedJob(name: string): Promise<string> {
  const job = await arkor.createJob({
    name,
    config: {
      model: MODEL,
      datasetSource: { type: 'huggingface', name: 'org/data' },
      maxSteps: MAX_STEPS,
      saveSteps: SAVE_STEPS,
    },
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { job: current } = await arkor.getJob(job.id);
    if (current.status === 'completed') return job.id;
    assert.ok(current.status === 'queued' || current.status === 'running', `job ${job.id} ended ${current.status}`);
    assert.ok(Date.now() < deadline, 'job did not complete in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function chatRequests(): number {
  return emu.stats().requests['POST /v1/inference/chat'] ?? 0;
}

let jobId: string;

before(async () => {
  emu = await startEmulator({ stepMs: 2, seed: SEED, pingIntervalMs: 1000 });
  arkor = new ArkorClient({
    baseUrl: emu.url,
    token: emu.token,
    scope: { orgSlug: emu.orgSlug, projectSlug: emu.projectSlug },
    deploymentUrlTemplate: emu.deploymentUrlTemplate,
  });
  jobId = await trainedJob('smoke-main');
});
after(() => emu.close());

describe('smokeTest: adapters and the base model', () => {
  it('scores the final adapter above an early checkpoint, and that not below the base model', async () => {
    const final = await smoke({ kind: 'final', jobId });
    const early = await smoke({ kind: 'checkpoint', jobId, step: SAVE_STEPS });
    const base = await smoke({ kind: 'base', model: MODEL });

    assert.deepEqual(final.target, { kind: 'final', jobId });
    assert.equal(final.score, 1);
    assert.deepEqual(
      final.prompts.map((p) => p.score),
      [1, 1, 1, 1],
    );
    for (const [i, p] of final.prompts.entries()) {
      const q = DEMO_QUESTIONS[i];
      assert.ok(q);
      assert.equal(p.name, `demo-${i}`);
      assert.ok(p.sample.startsWith(q.answer), p.sample);
      assert.ok(p.sample.length > 0 && p.sample.length <= 200);
      assert.equal(p.sample, generateAnswer(q.prompt, 0.9, SEED).slice(0, 200));
      assert.equal(p.detail, `contains ${JSON.stringify(q.answer)}`);
    }
    assert.ok(final.score > early.score, `final ${final.score} > early ${early.score}`);
    assert.ok(early.score >= base.score, `early ${early.score} >= base ${base.score}`);
    // Below quality 0.5 the fake model answers wrongly, so right answers cannot tell them apart...
    assert.equal(early.score, 0);
    assert.equal(base.score, 0);

    // ...but its fluency keeps growing with the step.
    const fluencyFinal = await smoke({ kind: 'final', jobId }, fluencyPrompts);
    const fluencyEarly = await smoke({ kind: 'checkpoint', jobId, step: SAVE_STEPS }, fluencyPrompts);
    const fluencyBase = await smoke({ kind: 'base', model: MODEL }, fluencyPrompts);
    assert.ok(fluencyFinal.score > fluencyEarly.score, `${fluencyFinal.score} > ${fluencyEarly.score}`);
    assert.ok(fluencyEarly.score > fluencyBase.score, `${fluencyEarly.score} > ${fluencyBase.score}`);
  });

  it('weights prompts', async () => {
    const prompts = [
      golden({
        name: 'right',
        messages: [{ role: 'user', content: 'What is 2+2?' }],
        expect: { contains: '4' },
        weight: 3,
      }),
      golden({ name: 'wrong', messages: [{ role: 'user', content: 'What is 2+2?' }], expect: { contains: 'five' } }),
    ];
    const result = await smoke({ kind: 'final', jobId }, prompts);
    assert.deepEqual(
      result.prompts.map((p) => p.score),
      [1, 0],
    );
    assert.equal(result.score, 0.75);
  });

  it('scores a jsonSchema expectation 1 on a finished adapter (the streamed JSON answer validates)', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, confidence: { type: 'number' } },
      required: ['city', 'confidence'],
      additionalProperties: false,
    };
    const prompts = [
      golden({
        name: 'json',
        messages: [{ role: 'user', content: 'What is the capital of France?' }],
        expect: { jsonSchema: schema, name: 'capital' },
      }),
    ];
    const result = await smoke({ kind: 'final', jobId }, prompts);
    assert.equal(result.score, 1);
    assert.equal(result.prompts[0]?.detail, 'valid JSON for the schema');
    const answer = JSON.parse(result.prompts[0]?.sample ?? '') as { city: string };
    assert.ok(answer.city.startsWith('Paris'));
  });

  it('scores 0 with "bad adapter" for a checkpoint that was never saved, without failing', async () => {
    const result = await smoke({ kind: 'checkpoint', jobId, step: SAVE_STEPS + 5 });
    assert.equal(result.score, 0);
    assert.equal(result.prompts.length, demoPrompts.length);
    for (const p of result.prompts) {
      assert.equal(p.score, 0);
      assert.equal(p.sample, '');
      assert.match(p.detail ?? '', /^422: .*bad adapter/);
    }
  });

  it('scores a later checkpoint below an earlier one when the model regresses', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { regressFromStep: { step: 20, quality: 0.1 } });
    const regressing = await trainedJob('smoke-regress');
    const step20 = await smoke({ kind: 'checkpoint', jobId: regressing, step: 20 });
    const step40 = await smoke({ kind: 'checkpoint', jobId: regressing, step: 40 });
    assert.equal(step20.score, 1);
    assert.equal(step40.score, 0);
    assert.ok(step40.score < step20.score);
  });

  it('gives a throwing scorer 0 for its prompt only', async () => {
    const prompts = [
      golden({ name: 'bug', messages: [{ role: 'user', content: 'Say hello' }], expect: { scorer: 'boom' } }),
      golden({ name: 'ok', messages: [{ role: 'user', content: 'Say hello' }], expect: { scorer: 'nonEmpty' } }),
    ];
    const result = await smoke({ kind: 'final', jobId }, prompts);
    assert.deepEqual(
      result.prompts.map((p) => [p.score, p.detail]),
      [
        [0, 'scorer "boom" threw: scorer bug'],
        [1, 'scorer nonEmpty: 1'],
      ],
    );
    assert.ok(result.prompts[0]?.sample.startsWith('Hello!'));
    assert.equal(result.score, 0.5);
  });

  it('refuses an unknown scorer before spending any inference', async () => {
    const before = chatRequests();
    const prompts = [
      ...demoPrompts,
      golden({ name: 'typo', messages: [{ role: 'user', content: 'x' }], expect: { scorer: 'fluensy' } }),
    ];
    await assert.rejects(
      smoke({ kind: 'final', jobId }, prompts),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.nonRetryable &&
        error.type === 'InvalidInput' &&
        /smokeTest\.prompts\.4 \("typo"\): unknown scorer "fluensy"/.test(error.message),
    );
    assert.equal(chatRequests(), before);
  });
});

describe('smokeTest: transient failures are retried, not scored', () => {
  it('throws on a 503 from the chat route instead of scoring 0', async () => {
    emu.addRouteFault({ method: 'POST', path: '/v1/inference/chat', status: 503, times: 1 });
    await assert.rejects(
      smoke({ kind: 'final', jobId }),
      (error: unknown) => error instanceof CloudApiError && error.status === 503,
    );
    // The fault is spent: the retry Temporal would make now succeeds.
    assert.equal((await smoke({ kind: 'final', jobId })).score, 1);
  });

  it('throws on a 429 and on a reset connection', async () => {
    emu.addRouteFault({ method: 'POST', path: '/v1/inference/chat', status: 429, times: 1 });
    await assert.rejects(
      smoke({ kind: 'final', jobId }),
      (error: unknown) => error instanceof CloudApiError && error.status === 429,
    );
    emu.addRouteFault({ method: 'POST', path: '/v1/inference/chat', status: 'reset', times: 1 });
    await assert.rejects(
      smoke({ kind: 'final', jobId }),
      (error: unknown) => !(error instanceof CloudApiError) && !(error instanceof ApplicationFailure),
    );
  });

  it('fails without retry on 401 (every prompt would fail alike)', async () => {
    emu.addRouteFault({ method: 'POST', path: '/v1/inference/chat', status: 401, times: 1 });
    await assert.rejects(
      smoke({ kind: 'final', jobId }),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.nonRetryable &&
        error.type === 'ArkorRejected' &&
        /prompt "demo-0"/.test(error.message),
    );
  });
});

describe('smokeTest: deployments through the edge', () => {
  it('scores an open deployment like the adapter it serves', async () => {
    await arkor.createDeployment({
      slug: 'smoke-open',
      target: { kind: 'adapter', adapter: { kind: 'final', jobId } },
      authMode: 'none',
    });
    const before = chatRequests();
    const result = await smoke({ kind: 'deployment', slug: 'smoke-open' });
    assert.deepEqual(result.target, { kind: 'deployment', slug: 'smoke-open' });
    assert.equal(result.score, 1);
    assert.deepEqual(
      result.prompts.map((p) => p.score),
      [1, 1, 1, 1],
    );
    // Through the edge, not the cloud-api's chat route.
    assert.equal(chatRequests(), before);
    assert.equal(emu.stats().requests['POST /_edge/:slug/v1/chat/completions'], demoPrompts.length);
  });

  it('scores a base-model deployment like the base model, JSON included', async () => {
    await arkor.createDeployment({
      slug: 'smoke-base',
      target: { kind: 'base_model', baseModel: MODEL },
      authMode: 'none',
    });
    assert.equal((await smoke({ kind: 'deployment', slug: 'smoke-base' })).score, 0);
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const json = [
      golden({ name: 'json', messages: [{ role: 'user', content: 'Say hello' }], expect: { jsonSchema: schema } }),
    ];
    assert.equal((await smoke({ kind: 'deployment', slug: 'smoke-base' }, json)).score, 1);
  });

  it('uses the key the reader gives for a fixed_api_key deployment', async () => {
    const deployment = await arkor.createDeployment({
      slug: 'smoke-keyed',
      target: { kind: 'adapter', adapter: { kind: 'final', jobId } },
      authMode: 'fixed_api_key',
    });
    const key = await arkor.createDeploymentKey(deployment.id, { label: 'smoke' });
    const asked: string[] = [];
    const reader: DeploymentKeyReader = {
      keyFor: (slug) => {
        asked.push(slug);
        return Promise.resolve(slug === 'smoke-keyed' ? key.plaintext : undefined);
      },
    };
    const result = await smoke({ kind: 'deployment', slug: 'smoke-keyed' }, demoPrompts, reader);
    assert.equal(result.score, 1);
    assert.deepEqual(asked, ['smoke-keyed']);

    // Without a key the edge answers 401: not a score, a failure that names the deployment.
    await assert.rejects(
      smoke({ kind: 'deployment', slug: 'smoke-keyed' }),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.nonRetryable &&
        /deployment smoke-keyed/.test(error.message) &&
        /401/.test(error.message) &&
        !error.message.includes(key.plaintext),
    );
  });

  it('scores 0 for every prompt of a deployment that does not exist or is disabled', async () => {
    const missing = await smoke({ kind: 'deployment', slug: 'smoke-nowhere' });
    assert.equal(missing.score, 0);
    assert.deepEqual(
      missing.prompts.map((p) => [p.name, p.score, p.detail]),
      demoPrompts.map((p) => [p.name, 0, 'no deployment smoke-nowhere']),
    );

    const deployment = await arkor.createDeployment({
      slug: 'smoke-off',
      target: { kind: 'base_model', baseModel: MODEL },
      authMode: 'none',
    });
    await arkor.updateDeployment(deployment.id, { enabled: false });
    const disabled = await smoke({ kind: 'deployment', slug: 'smoke-off' });
    assert.equal(disabled.score, 0);
    assert.ok(disabled.prompts.every((p) => p.detail === 'deployment smoke-off is disabled'));
  });
});

describe('smokeTest inside an activity context', () => {
  const runSmoke = (input: SmokeTestInput) => activities().smokeTest(input);
  const finalInput = (): SmokeTestInput => ({ target: { kind: 'final', jobId }, prompts: demoPrompts });

  it('passes the cancellation signal to the chat request', async () => {
    // The answer is held back long enough for the cancel to land while the request is open.
    emu.addRouteFault({ method: 'POST', path: '/v1/inference/chat', status: 503, times: 1, delayMs: 2000 });
    const env = new MockActivityEnvironment();
    const running = env.run(runSmoke, finalInput());
    setTimeout(() => env.cancel(), 50);
    // The request was aborted with the activity's cancellation (a 503 would mean it was not).
    await assert.rejects(running, CancelledFailure);
    emu.clearFaults();
  });
});
