import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { EventBatcher } from '../activities/event-batcher.js';
import { jobMarker, redactJob, toJobConfig } from '../activities/submit.js';
import { CallbackModuleError, loadCallbackSets } from '../extensions/callbacks.js';
import type { TrainingJob } from '../arkor/index.js';
import type { RunEvent } from '../contract/events.js';
import { logEvent } from './support/run-events.js';
import { parseTrainingRunInput } from '../contract/input.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'callbacks');

describe('event batcher', () => {
  it('delivers a full batch at once, in order, and urgent events behind pending logs', async () => {
    const delivered: string[][] = [];
    const batcher = new EventBatcher((events) => Promise.resolve(void delivered.push(events.map((e) => e.id ?? '?'))), {
      maxEvents: 3,
      maxDelayMs: 60_000,
    });
    for (const step of [1, 2, 3, 4]) await batcher.addLog(logEvent(step));
    assert.deepEqual(delivered, [['1', '2', '3']]);
    await batcher.flush([{ id: 'ckpt', payload: { type: 'checkpoint.saved', timestamp: 't', step: 4 } }]);
    assert.deepEqual(delivered, [
      ['1', '2', '3'],
      ['4', 'ckpt'],
    ]);
    batcher.close();
  });

  it('delivers a partial batch after the delay', async () => {
    const delivered: RunEvent[][] = [];
    const batcher = new EventBatcher((events) => Promise.resolve(void delivered.push(events)), {
      maxEvents: 100,
      maxDelayMs: 20,
    });
    await batcher.addLog(logEvent(1));
    await batcher.addLog(logEvent(2));
    assert.equal(delivered.length, 0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0]?.length, 2);
    batcher.close();
  });

  it('keeps deliveries sequential and surfaces a failed timed delivery', async () => {
    let active = 0;
    let maxActive = 0;
    const batcher = new EventBatcher(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        throw new Error('signal failed');
      },
      { maxEvents: 100, maxDelayMs: 5 },
    );
    await batcher.addLog(logEvent(1));
    // Until the timed delivery has failed (however slow the machine), then the next call throws.
    const failed = (): boolean => {
      try {
        batcher.check();
        return false;
      } catch {
        return true;
      }
    };
    while (!failed()) await new Promise((resolve) => setTimeout(resolve, 5));
    await assert.rejects(batcher.addLog(logEvent(2)), /signal failed/);
    assert.equal(maxActive, 1);
    batcher.close();
  });
});

describe('submit helpers', () => {
  const trainer = parseTrainingRunInput({
    trainer: {
      name: 'n',
      model: 'unsloth/gemma-4-E4B-it',
      dataset: { type: 'blob', url: 'https://d.example/x', tokenEnv: 'DATA_TOKEN' },
      lora: { r: 16, alpha: 16 },
      maxSteps: 10,
    },
  }).trainer;

  it('derives a stable marker per workflow run', () => {
    assert.equal(jobMarker('wf', 'run-1'), jobMarker('wf', 'run-1'));
    assert.notEqual(jobMarker('wf', 'run-1'), jobMarker('wf', 'run-2'));
    assert.match(jobMarker('wf', 'run-1'), /^\[wf:[0-9a-f]{16}\]$/);
  });

  it('builds the wire config with only defined keys and the token from the environment', () => {
    assert.deepEqual(toJobConfig(trainer, { DATA_TOKEN: 's3cret' }), {
      model: 'unsloth/gemma-4-E4B-it',
      datasetSource: { type: 'blob', url: 'https://d.example/x', token: 's3cret' },
      loraR: 16,
      loraAlpha: 16,
      maxSteps: 10,
    });
  });

  it('redacts the dataset token the backend echoes', () => {
    const job = {
      id: 'j',
      orgId: 'o',
      projectId: 'p',
      name: 'n',
      status: 'queued',
      createdAt: 't',
      config: { model: 'm', datasetSource: { type: 'blob', url: 'u', token: 's3cret' } },
    } as TrainingJob;
    assert.ok(!JSON.stringify(redactJob(job)).includes('s3cret'));
    assert.equal(JSON.stringify(job).includes('s3cret'), true, 'the original is not mutated');
  });
});

describe('callbacks module loading', () => {
  it('gives an empty default set when no module is configured', async () => {
    const sets = await loadCallbackSets(undefined);
    assert.deepEqual([...sets.keys()], ['default']);
  });

  it('names the export and member of a wrongly shaped module', async () => {
    await assert.rejects(
      loadCallbackSets(join(fixtures, 'wrong-shape.ts')),
      (error: unknown) =>
        error instanceof CallbackModuleError && /Export "default".*unknown member "onCheckpiont"/.test(error.message),
    );
  });

  it('reports a module that fails to load', async () => {
    await assert.rejects(
      loadCallbackSets(join(fixtures, 'throws-on-load.ts')),
      /Cannot load the callbacks module .*boom at import/,
    );
    await assert.rejects(loadCallbackSets(join(fixtures, 'missing.ts')), CallbackModuleError);
  });
});
