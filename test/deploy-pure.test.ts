/**
 * Worker Versioning without a server: the worker's settings and their defaults, the build id,
 * the `deploy` command line and the `deploy status` view. The deploy itself, on a real dev server,
 * is test/worker-versioning.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCliArgs } from '../cli/program.js';
import { resolveDeploymentName } from '../cli/remote.js';
import { formatDeployment } from '../cli/commands/deploy.js';
import { UsageError } from '../cli/errors.js';
import { deploymentNameOf } from '../contract/deployments.js';
import { pinnedRunningQuery, type DeploymentView } from '../service/deployments.js';
import { workflowBuildId, workflowSourceHash } from '../worker/bundle.js';
import { loadWorkerSettings } from '../worker/config.js';
import { describeReadiness, workerDeploymentOptions } from '../worker/versioning.js';

describe('worker versioning settings', () => {
  it('defaults to versioning on, deployment arkor-temporal, the code build id, fresh', () => {
    const settings = loadWorkerSettings({});
    assert.equal(settings.ARKOR_WORKER_VERSIONING, 'on');
    assert.equal(settings.ARKOR_DEPLOYMENT_NAME, 'arkor-temporal');
    assert.equal(settings.ARKOR_BUILD_ID, undefined);
    assert.equal(settings.ARKOR_BECOME_CURRENT, 'fresh');
    const set = loadWorkerSettings({
      ARKOR_WORKER_VERSIONING: 'off',
      ARKOR_DEPLOYMENT_NAME: 'arkor-eu',
      ARKOR_BUILD_ID: '2025-06-01.3',
      ARKOR_BECOME_CURRENT: 'never',
    });
    assert.deepEqual(
      [set.ARKOR_WORKER_VERSIONING, set.ARKOR_DEPLOYMENT_NAME, set.ARKOR_BUILD_ID, set.ARKOR_BECOME_CURRENT],
      ['off', 'arkor-eu', '2025-06-01.3', 'never'],
    );
  });

  it('refuses values the server would refuse, naming the variable', () => {
    const cases: Array<[string, string]> = [
      ['ARKOR_WORKER_VERSIONING', 'maybe'],
      ['ARKOR_DEPLOYMENT_NAME', 'arkor.eu'],
      ['ARKOR_DEPLOYMENT_NAME', 'arkor:eu'],
      ['ARKOR_DEPLOYMENT_NAME', ''],
      ['ARKOR_BUILD_ID', 'has space'],
      ['ARKOR_BUILD_ID', 'x'.repeat(256)],
      ['ARKOR_BECOME_CURRENT', 'sometimes'],
    ];
    for (const [variable, value] of cases)
      assert.throws(
        () => loadWorkerSettings({ [variable]: value }),
        new RegExp(`${variable}: `),
        `${variable}=${value}`,
      );
  });

  it('builds the build id from the package version and the workflow code hash', async () => {
    assert.equal(await workflowBuildId(), `0.1.0-${await workflowSourceHash()}`);
    assert.match(await workflowBuildId(), /^\d+\.\d+\.\d+-[0-9a-f]{16}$/);
  });

  it('pins every workflow of a versioned worker; names deployments after queues for tests and dev', () => {
    assert.deepEqual(workerDeploymentOptions({ deploymentName: 'd', buildId: 'b' }), {
      useWorkerVersioning: true,
      version: { deploymentName: 'd', buildId: 'b' },
      defaultVersioningBehavior: 'PINNED',
    });
    assert.equal(deploymentNameOf('team.a:queue'), 'team-a-queue');
  });

  it('says what to do when the version does not take new runs', () => {
    const version = { deploymentName: 'arkor-temporal', buildId: 'b2' };
    assert.equal(
      describeReadiness({ version, currentBuildId: 'b2', madeCurrent: true }),
      'version arkor-temporal:b2 is current (made current by this worker)',
    );
    assert.match(
      describeReadiness({ version, currentBuildId: 'b1', madeCurrent: false }),
      /not current \(b1 is\).*`arkor-temporal deploy set-current b2 --deployment arkor-temporal`/,
    );
    assert.match(
      describeReadiness({ version, currentBuildId: undefined, madeCurrent: false }),
      /no current version: new runs wait/,
    );
  });
});

describe('the deploy command line', () => {
  it('parses status, set-current, ramp and unramp with a deployment and connection flags', () => {
    assert.deepEqual(parseCliArgs(['deploy', 'status', '--json']).command, { kind: 'deploy-status', json: true });
    assert.deepEqual(parseCliArgs(['deploy', 'status', '--deployment', 'arkor-eu']).command, {
      kind: 'deploy-status',
      deployment: 'arkor-eu',
      json: false,
    });
    const current = parseCliArgs(['deploy', 'set-current', '0.2.0-abc', '--address', 'temporal:7233']);
    assert.deepEqual(current.command, { kind: 'deploy-set-current', buildId: '0.2.0-abc' });
    assert.equal(current.connection.address, 'temporal:7233');
    assert.deepEqual(parseCliArgs(['deploy', 'ramp', '0.2.0-abc', '12.5']).command, {
      kind: 'deploy-ramp',
      buildId: '0.2.0-abc',
      percent: 12.5,
    });
    assert.deepEqual(parseCliArgs(['deploy', 'unramp']).command, { kind: 'deploy-unramp' });
  });

  it('refuses a bad percentage, a bad deployment name, a missing build id', () => {
    for (const argv of [
      ['deploy', 'ramp', 'b', '101'],
      ['deploy', 'ramp', 'b', 'ten'],
      ['deploy', 'ramp', 'b'],
      ['deploy', 'set-current'],
      ['deploy', 'status', '--deployment', 'a.b'],
      ['deploy', 'promote'],
    ])
      assert.throws(() => parseCliArgs(argv), UsageError, argv.join(' '));
  });

  it('takes the deployment from the flag, then ARKOR_DEPLOYMENT_NAME, then arkor-temporal', () => {
    assert.equal(resolveDeploymentName('x', { ARKOR_DEPLOYMENT_NAME: 'y' }), 'x');
    assert.equal(resolveDeploymentName(undefined, { ARKOR_DEPLOYMENT_NAME: 'y' }), 'y');
    assert.equal(resolveDeploymentName(undefined, {}), 'arkor-temporal');
  });

  it('counts the open runs pinned to a version as the server does', () => {
    assert.equal(
      pinnedRunningQuery('arkor-temporal', '0.2.0-abc'),
      "BuildIds = 'pinned:arkor-temporal:0.2.0-abc' AND ExecutionStatus = 'Running'",
    );
  });

  it('shows routing, then each version with its pinned runs and what to do with its workers', () => {
    const view: DeploymentView = {
      name: 'arkor-temporal',
      currentBuildId: 'b3',
      ramping: { buildId: 'b4', percent: 10 },
      versions: [
        { buildId: 'b4', status: 'ramping', pinnedRunning: 1, createdAt: new Date('2025-06-04T00:00:00Z') },
        { buildId: 'b3', status: 'current', pinnedRunning: 7, createdAt: new Date('2025-06-03T00:00:00Z') },
        { buildId: 'b2', status: 'draining', pinnedRunning: 2, drainage: 'draining' },
        { buildId: 'b1', status: 'drained', pinnedRunning: 0, drainage: 'drained' },
        { buildId: 'b0', status: 'draining', pinnedRunning: 0, drainage: 'draining' },
        { buildId: 'b5', status: 'inactive', pinnedRunning: 0 },
      ],
    };
    const text = formatDeployment(view);
    assert.match(text, /^deployment +arkor-temporal\ncurrent +b3\nramping +b4 at 10%\n/);
    assert.match(text, /^b4 +ramping +1 +2025-06-04T00:00:00.000Z +takes new runs$/m);
    assert.match(text, /^b2 +draining +2 +– +keep its workers: runs are pinned to it$/m);
    assert.match(text, /^b1 +drained +0 +– +no runs left: its workers can stop$/m);
    assert.match(text, /^b0 +draining +0 +– +no pinned run counted: stop its workers once it shows drained$/m);
    assert.match(text, /^b5 +inactive +0 +– +never current: set-current or ramp routes new runs to it$/m);
    assert.match(formatDeployment({ name: 'd', versions: [] }), /current +– \(none: new runs wait/);
  });
});
