/**
 * `client.ts schedule …` and `client.ts list` as child processes against a real dev server, the
 * emulator and an in-process worker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunSummary, ScheduleInfo } from '../service/index.js';
import { eventually, runClient, startHarness, trainingInput, type Harness } from './support/harness.js';

const configDir = mkdtempSync(join(tmpdir(), 'arkor-cli-schedule-'));

function writeConfig(name: string): string {
  const file = join(configDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(trainingInput({ trainer: { name, maxSteps: 10, evalSteps: 5, saveSteps: 5 } })));
  return file;
}

describe('schedule and list commands', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => {
    await h?.temporal.client.schedule
      .getHandle('cli-nightly')
      .delete()
      .catch(() => undefined);
    await h?.close();
  });

  it('create, create again (exit 1), --update, describe, trigger, list, delete', async () => {
    const created = await runClient(h, [
      'schedule',
      'create',
      'cli-nightly',
      '--config',
      writeConfig('cli-v1'),
      '--every',
      '1h',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'created schedule cli-nightly\n');

    const again = await runClient(h, [
      'schedule',
      'create',
      'cli-nightly',
      '--config',
      writeConfig('cli-v1'),
      '--every',
      '1h',
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: schedule cli-nightly already exists.*--update/);

    const updated = await runClient(h, [
      'schedule',
      'create',
      'cli-nightly',
      '--config',
      writeConfig('cli-v2'),
      '--cron',
      '0 3 * * *',
      '--timezone',
      'Europe/Berlin',
      '--overlap',
      'buffer-one',
      '--update',
      '--json',
    ]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual(JSON.parse(updated.stdout), { scheduleId: 'cli-nightly', updated: true });

    const described = await runClient(h, ['schedule', 'describe', 'cli-nightly', '--json']);
    assert.equal(described.code, 0, described.stderr);
    const info = JSON.parse(described.stdout) as ScheduleInfo;
    assert.equal(info.input?.trainer.name, 'cli-v2');
    assert.deepEqual(info.timing, { cron: ['0 3 * * *'], timezone: 'Europe/Berlin' });
    assert.equal(info.overlap, 'buffer-one');
    const text = await runClient(h, ['schedule', 'describe', 'cli-nightly']);
    assert.match(text.stdout, /^spec +cron "0 3 \* \* \*" \(Europe\/Berlin\)$/m);
    assert.match(text.stdout, /^state +active$/m);

    const triggered = await runClient(h, ['schedule', 'trigger', 'cli-nightly']);
    assert.equal(triggered.code, 0, triggered.stderr);
    const runs = await eventually(
      async () => {
        const listed = await runClient(h, ['list', '--schedule', 'cli-nightly', '--json']);
        const parsed = JSON.parse(listed.stdout) as RunSummary[];
        return parsed.length === 1 && parsed[0]?.status === 'COMPLETED' ? parsed : undefined;
      },
      30_000,
      'the triggered run to complete',
    );
    assert.equal(runs[0]?.phase, 'completed');
    assert.equal(runs[0]?.scheduleId, 'cli-nightly');
    assert.match(runs[0]?.workflowId ?? '', /^sched-cli-nightly-/);

    const table = await runClient(h, ['list', '--schedule', 'cli-nightly']);
    assert.equal(table.code, 0, table.stderr);
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^WORKFLOW ID +PHASE +JOB +MODEL +BEST SCORE +PROMOTION$/);
    assert.match(
      row ?? '',
      new RegExp(`^${runs[0]?.workflowId} +completed +${runs[0]?.jobId} +unsloth/gemma-4-E4B-it +– +–$`),
    );
    assert.deepEqual(rest, []);

    const list = await runClient(h, ['schedule', 'list']);
    assert.match(list.stdout, /^cli-nightly +active /m);

    const deleted = await runClient(h, ['schedule', 'delete', 'cli-nightly']);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await runClient(h, ['schedule', 'describe', 'cli-nightly']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'error: no schedule with id cli-nightly\n');
  });

  it('bad flags exit 2 without touching Temporal', async () => {
    const bad = await runClient(h, [
      'schedule',
      'create',
      'x',
      '--config',
      writeConfig('cli-bad'),
      '--every',
      '1h',
      '--overlap',
      'sometimes',
    ]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^error: option '--overlap <policy>' argument 'sometimes' is invalid\. Allowed choices are skip, buffer-one,/,
    );
    const list = await runClient(h, ['list', '--limit', 'many']);
    assert.equal(list.code, 2);
    assert.match(list.stderr, /--limit must be a whole number/);
    assert.equal((await runClient(h, ['schedule', 'list'])).stdout, 'no schedules\n');
  });
});
