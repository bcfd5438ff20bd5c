/**
 * Worker Versioning from inside a run (README "Deploys"). Every workflow is PINNED, by the worker's
 * `defaultVersioningBehavior` rather than an annotation here: a PINNED annotation would be
 * reported by an unversioned worker too, and the server refuses a versioning behavior from a worker
 * without a deployment version, which would fail every task of a run replayed after versioning is
 * switched off.
 *
 * A run stays on the version it started on until it continues as new; its continuation starts on
 * the deployment's current version. Servers that know `initialVersioningBehavior` (Temporal Server
 * 1.30 and later) do that from the continue-as-new command itself. Earlier servers (1.29, the dev
 * server of Temporal CLI 1.5.1) do not know the field: the continuation of a PINNED run inherits its
 * version. They do start it on the current version when the run that continues is AUTO_UPGRADE, so
 * the last task of the run — the one whose only command is the continue-as-new, and that no
 * later task follows — reports AUTO_UPGRADE. Neither changes a command: replay is unaffected.
 */
import { makeContinueAsNewFunc, workflowInfo, type Workflow } from '@temporalio/workflow';
import { maybeGetActivator } from '@temporalio/workflow/lib/global-attributes.js';

/**
 * Continues the run as new, onto the current version of its worker deployment when its worker is
 * versioned (as `continueAsNew` otherwise).
 */
export function continueAsNewOnCurrentVersion<F extends Workflow>(...args: Parameters<F>): Promise<never> {
  // Only a versioned worker has a deployment name (an unversioned one has a build id, and must
  // report no behavior at all: the server would fail the task). This project never gives a worker
  // a deployment version without versioning.
  if (!workflowInfo().currentDeploymentVersion?.deploymentName) return makeContinueAsNewFunc<F>()(...args);
  reportAutoUpgradeForThisTask();
  return makeContinueAsNewFunc<F>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(...args);
}

/**
 * The SDK reports the behavior of the workflow definition with every task it completes, and has
 * no public way to change it during a run; the activator holds it. Should an SDK drop the field,
 * the run simply stays pinned across continue-as-new (safe, but its version never drains); the
 * upgrade test (test/worker-versioning.test.ts) says so.
 */
function reportAutoUpgradeForThisTask(): void {
  const activator = maybeGetActivator();
  if (activator && 'versioningBehavior' in activator) activator.versioningBehavior = 'AUTO_UPGRADE';
}
