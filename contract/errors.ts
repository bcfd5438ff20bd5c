/**
 * The one way this project turns a thrown value into text: user callbacks, scorers and modules
 * may throw anything, and a message of "[object Object]" helps nobody.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
