/**
 * Worker Versioning names shared by workers (which poll as a version of a deployment) and by the
 * tools that route runs between versions (`arkor-temporal deploy`). See README "Deploys".
 */

/** The worker deployment when ARKOR_DEPLOYMENT_NAME is not set. */
export const DEFAULT_DEPLOYMENT_NAME = 'arkor-temporal';

/** Why `name` cannot be a deployment name (the server splits version ids at `.` and `:`), or undefined. */
export function deploymentNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'must not be empty';
  if (/[.:]/.test(name)) return "must not contain '.' or ':'";
  return undefined;
}

/** Why `buildId` cannot be a build id, or undefined. */
export function buildIdProblem(buildId: string): string | undefined {
  if (buildId.trim() === '') return 'must not be empty';
  if (buildId.length > 255) return 'must be at most 255 characters';
  if (/[\s'"\\]/.test(buildId)) return 'must not contain spaces, quotes or backslashes';
  return undefined;
}

/** A deployment name of a task queue's own (development and tests): the queue's name, `.` and `:` made `-`. */
export function deploymentNameOf(taskQueue: string): string {
  return taskQueue.replace(/[.:]/g, '-');
}
