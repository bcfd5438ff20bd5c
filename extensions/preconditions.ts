/**
 * Preconditions: functions the worker registers (`ARKOR_PRECONDITIONS_MODULE`) that say what a
 * run would train on now, so a scheduled retrain can skip when nothing changed.
 */
import type { PreconditionInput } from '../contract/evaluation.js';
import { type EntryDescriptions, importModuleExports } from './load-module.js';

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
  if (!modulePath) return new Map();
  const exported = await importModuleExports(
    modulePath,
    'preconditions',
    (message) => new PreconditionModuleError(message),
  );
  return preconditionRegistryFrom(exported, { entry: (name) => `Export "${name}" of ${modulePath}` });
}

/** Preconditions from named values (a module's exports, or functions a service passed in code). */
export function preconditionRegistryFrom(
  entries: Iterable<[string, unknown]>,
  describe: Pick<EntryDescriptions, 'entry'>,
): PreconditionRegistry {
  const registry = new Map<string, Precondition>();
  for (const [name, value] of entries) {
    if (typeof value !== 'function') throw new PreconditionModuleError(`${describe.entry(name)} is not a function.`);
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
