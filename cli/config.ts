/**
 * Reads a run config file (a `TrainingRunInput` as JSON) and validates it with the input schema,
 * so a bad file is rejected before anything connects or starts.
 */
import { readFile } from 'node:fs/promises';
import { InvalidTrainingInputError, parseTrainingRunInput, type TrainingRunInput } from '../contract/input.js';
import { ConfigError } from './errors.js';
import { errorMessage } from '../contract/errors.js';

/** Reads and validates the config at `path`. Throws `ConfigError` naming each bad field. */
export async function loadRunConfig(path: string): Promise<TrainingRunInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read config ${path}${code ? ` (${code})` : ''}`);
  }
  return parseRunConfig(text, path);
}

/** Parses and validates config text; `source` names it in messages. Throws `ConfigError`. */
export function parseRunConfig(text: string, source: string): TrainingRunInput {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config ${source} is not valid JSON: ${errorMessage(error)}`);
  }
  try {
    parseTrainingRunInput(json);
  } catch (error) {
    if (error instanceof InvalidTrainingInputError) {
      throw new ConfigError(`config ${source} is invalid`, error.issues);
    }
    throw error;
  }
  // The service validates again and the workflow fills in defaults: pass what the user wrote.
  return json as TrainingRunInput;
}
