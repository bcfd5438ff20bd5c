import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundlePath } from '../worker/bundle.js';
import { droppedWorkflowSpans } from '../worker/create-worker.js';
import { recordedHistories } from './support/recorded-histories.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'histories');

// Replaying needs no server: a change to workflow code that would make a running workflow take
// a different path fails here instead of in production (a non-determinism error).
describe('recorded histories replay on the current workflow code', () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Earlier recordings at the top, later ones in a folder per release or label (see
  // record-histories.ts): every folder, recursively.
  const histories = recordedHistories(dir);

  it('has recorded histories to replay, in every folder', () => {
    assert.ok(histories.length >= 3, `expected recorded histories in ${dir}`);
    const folders = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    for (const folder of folders)
      assert.ok(
        histories.some((history) => history.file.startsWith(`${folder.name}/`)),
        `no history replayed from ${folder.name}/`,
      );
  });

  for (const { file, workflowId } of histories) {
    it(`replays ${file}`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: await workflowBundlePath() }, sinks: droppedWorkflowSpans },
        history,
        workflowId,
      );
    });
  }
});
