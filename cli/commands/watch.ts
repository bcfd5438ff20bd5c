/** `watch`: follows a running (or finished) run until it ends and prints its outcome. */
import type { CommandContext } from '../context.js';
import type { ExitCode } from '../exit-codes.js';
import { followRun } from './follow.js';

export function runWatch(ctx: CommandContext, workflowId: string, json = false): Promise<ExitCode> {
  return followRun(ctx, workflowId, { json: false, jsonLines: json });
}
