/**
 * Preconditions: functions the worker registers (`ARKOR_PRECONDITIONS_MODULE`) that say what a
 * run would train on now, so a scheduled retrain can skip when nothing changed.
 */
import type { PreconditionInput } from '../contract/evaluation.js';
import { importModuleExports } from './load-module.js';

/** A registered precondition: what the run would train on now. */
export type Precondition = (args: {
  trainer: PreconditionInput['trainer'];
  labels?: Record<string, string>;
}) => Promise<{ revision: string; detail?: string }> | { revision: string; detail?: string };

export type PreconditionRegistry = ReadonlyMap<string, Precondition>;

export class PreconditionModuleError extends Error {
  override readonly name = 'PreconditionModuleError';
}

/** Loads ARKOR_PRECONDITIONS_MODULE: every export must be a precondition function. */
export async function loadPreconditions(modulePath: string | undefined): Promise<PreconditionRegistry> {
  const registry = new Map<string, Precondition>();
  if (!modulePath) return registry;
  const exported = await importModuleExports(
    modulePath,
    'preconditions',
    (message) => new PreconditionModuleError(message),
  );
  for (const [name, value] of exported) {
    if (typeof value !== 'function')
      throw new PreconditionModuleError(`Export "${name}" of ${modulePath} is not a function.`);
    registry.set(name, value as Precondition);
  }
  return registry;
}

/**
 * Identity helper that types one precondition: `export const dataset = definePrecondition(async () =>
 * ({ revision: await currentDatasetRevision() }))`. Every export of the module is one precondition.
 */
export function definePrecondition(precondition: Precondition): Precondition {
  return precondition;
}
