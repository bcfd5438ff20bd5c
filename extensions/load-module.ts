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
    return Object.entries(await importUserModule(modulePath));
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

/** Thrown when a TypeScript module cannot be loaded because tsx is not installed. */
export class TypeScriptLoaderMissingError extends Error {
  override readonly name = 'TypeScriptLoaderMissingError';
}

/**
 * Imports the user's module at `modulePath` (relative to the working directory). A TypeScript
 * module also loads when this code runs as compiled JavaScript (the installed package): Node
 * cannot import `.ts` by itself, so such a module goes through tsx's API, an optional peer
 * dependency.
 */
export async function importUserModule(modulePath: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(modulePath)).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  }
  let tsImport: (specifier: string, parent: string) => Promise<unknown>;
  try {
    ({ tsImport } = await import('tsx/esm/api'));
  } catch (error) {
    throw new TypeScriptLoaderMissingError(
      `${modulePath} is TypeScript: install tsx (npm install tsx) or compile it to .js (${errorMessage(error)})`,
    );
  }
  return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
}
