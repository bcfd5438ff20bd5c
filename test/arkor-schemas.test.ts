import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArkorResponseError } from '../arkor/errors.js';
import { decodeJobEvent } from '../arkor/events.js';
import { parseJsonLenient } from '../arkor/json.js';
import {
  ChatRequestSchema,
  DeploymentKeySchema,
  JobConfigSchema,
  TrainingJobSchema,
  decodeResponse,
  envelopes,
} from '../arkor/schemas.js';

const job = {
  id: 'j1',
  orgId: 'o',
  projectId: 'p',
  name: 'run',
  status: 'queued',
  config: { model: 'm', extra: 1 },
  error: null,
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: null,
  completedAt: null,
  future: 'kept',
};

describe('response schemas', () => {
  it('accept extra fields and keep them', () => {
    const parsed = TrainingJobSchema.parse(job);
    assert.equal(parsed.future, 'kept');
    assert.equal(parsed.config.extra, 1);
    assert.equal(
      TrainingJobSchema.parse({ ...job, error: undefined, startedAt: undefined, completedAt: undefined }).id,
      'j1',
    );
  });

  it('enforce required fields and the status enum with ArkorResponseError', () => {
    assert.throws(
      () => decodeResponse(envelopes.job, { job: { ...job, status: 'paused' } }, 'POST /v1/jobs'),
      (error) =>
        error instanceof ArkorResponseError && /POST \/v1\/jobs/.test(error.message) && /status/.test(error.message),
    );
    const { createdAt: _createdAt, ...withoutCreatedAt } = job;
    assert.throws(() => decodeResponse(envelopes.job, { job: withoutCreatedAt }, 'GET'), ArkorResponseError);
    assert.throws(() => decodeResponse(envelopes.job, { job: { ...job, config: {} } }, 'GET'), ArkorResponseError);
  });

  it('strip a stray plaintext from listed keys', () => {
    const key = DeploymentKeySchema.parse({
      id: 'k',
      label: 'l',
      prefix: 'ark_live_ab',
      enabled: true,
      createdAt: 'now',
      lastUsedAt: null,
      plaintext: 'secret',
    });
    assert.equal('plaintext' in key, false);
  });

  it('validate job configs and chat requests', () => {
    assert.equal(
      JobConfigSchema.safeParse({
        model: 'm',
        datasetSource: { type: 'huggingface', name: 'a/b' },
        maxSteps: 10,
        dryRun: true,
      }).success,
      true,
    );
    assert.equal(
      JobConfigSchema.safeParse({ model: 'm', datasetSource: { type: 'blob', url: 'https://x', token: 't' } }).success,
      true,
    );
    assert.equal(JobConfigSchema.safeParse({ model: 'm', datasetSource: { type: 'ftp' } }).success, false);
    assert.equal(JobConfigSchema.safeParse({ datasetSource: { type: 'blob', url: 'u' } }).success, false);
    assert.equal(
      ChatRequestSchema.safeParse({
        messages: [{ role: 'user', content: 'hi' }],
        adapter: { kind: 'checkpoint', jobId: 'j', step: 5 },
        stream: false,
      }).success,
      true,
    );
    assert.equal(
      ChatRequestSchema.safeParse({
        messages: [{ role: 'user', content: 'hi' }],
        adapter: { kind: 'checkpoint', jobId: 'j' },
      }).success,
      false,
    );
  });
});

describe('job events', () => {
  it('decodes a log event; absent metrics become null and NaN survives', () => {
    const parsed = parseJsonLenient(
      '{"type":"training.log","jobId":"j","timestamp":"t","step":10,"loss":NaN,"evalLoss":null,"epoch":Infinity}',
    );
    assert.ok(parsed.ok);
    const decoded = decodeJobEvent(parsed.value);
    assert.ok(decoded.ok && decoded.event.type === 'training.log');
    assert.equal(decoded.event.step, 10);
    assert.ok(Number.isNaN(decoded.event.loss));
    assert.equal(decoded.event.evalLoss, null);
    assert.equal(decoded.event.learningRate, null);
    assert.equal(decoded.event.samplesPerSecond, null);
    assert.equal(decoded.event.epoch, Number.POSITIVE_INFINITY);
  });

  it('decodes the other four types', () => {
    const started = decodeJobEvent({ type: 'training.started', jobId: 'j', timestamp: 't' });
    assert.ok(started.ok && started.event.type === 'training.started');
    const checkpoint = decodeJobEvent({
      type: 'checkpoint.saved',
      jobId: 'j',
      timestamp: 't',
      step: 50,
      artifacts: [{ pathname: 'a' }],
    });
    assert.ok(checkpoint.ok && checkpoint.event.type === 'checkpoint.saved');
    assert.deepEqual(checkpoint.event.artifacts, [{ pathname: 'a' }]);
    const completed = decodeJobEvent({ type: 'training.completed', jobId: 'j', timestamp: 't', metrics: { a: 1 } });
    assert.ok(completed.ok && completed.event.type === 'training.completed');
    assert.equal(completed.event.artifacts, undefined);
    const failed = decodeJobEvent({ type: 'training.failed', jobId: 'j', timestamp: 't', error: 'CUDA OOM', step: 37 });
    assert.ok(failed.ok && failed.event.type === 'training.failed');
    assert.equal(failed.event.error, 'CUDA OOM');
    assert.equal(failed.event.step, 37);
  });

  it('never rejects a terminal event for a bad detail', () => {
    const failed = decodeJobEvent({ type: 'training.failed' });
    assert.ok(failed.ok && failed.event.type === 'training.failed');
    assert.equal(failed.event.error, 'training failed without an error message');
    const completed = decodeJobEvent({ type: 'training.completed', artifacts: 'nope' });
    assert.ok(completed.ok && completed.event.type === 'training.completed');
    assert.equal(completed.event.artifacts, undefined);
  });

  it('reports unknown or malformed known types as not ok', () => {
    assert.deepEqual(decodeJobEvent({ type: 'training.paused' }), {
      ok: false,
      type: 'training.paused',
      issue: 'unknown event type "training.paused"',
    });
    assert.deepEqual(decodeJobEvent({ status: 'running' }), { ok: false, issue: 'no string "type" field' });
    assert.deepEqual(decodeJobEvent(null), { ok: false, issue: 'no string "type" field' });
    const noStep = decodeJobEvent({ type: 'training.log', jobId: 'j', timestamp: 't' });
    assert.equal(noStep.ok, false);
    assert.ok(!noStep.ok && noStep.type === 'training.log');
  });
});
