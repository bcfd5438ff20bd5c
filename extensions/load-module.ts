/**
 * Loads a module the worker's configuration names (callbacks, scorers, preconditions). A module
 * that cannot be loaded stops the worker at start with the reason, never a run later.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../contract/errors.js';

/**
 * The exports of the module at `modulePath` (relative to the working directory), as
 * `[name, value]` pairs; `default` is the default export. Throws `makeError(message)` when the
 * module does not load.
 */
export async function importModuleExports(
  modulePath: string,
  what: string,
  makeError: (message: string) => Error,
): Promise<Array<[string, unknown]>> {
  try {
    const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
    return Object.entries(loaded);
  } catch (error) {
    throw makeError(`Cannot load the ${what} module ${modulePath}: ${errorMessage(error)}`);
  }
}

/** How errors name the entries of a module or of an object a service passed in code. */
export interface EntryDescriptions {
  /** E.g. `Export "nightly" of ./callbacks.js`. */
  entry: (name: string) => string;
  /** The message when there is nothing at all. */
  empty: string;
}
