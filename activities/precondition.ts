/**
 * Retrain only when something changed. A precondition is a function the worker registers (for
 * example one that returns the dataset's current revision); the activity compares its answer
 * with the revision of the last run promoted in the same scope, found through visibility.
 */
import { Context } from '@temporalio/activity';
import type { PreconditionInput, PreconditionResult } from '../contract/evaluation.js';
import { ArkorPromotedScope, ArkorRevision } from '../contract/search-attributes.js';
import { invalidInput } from './failures.js';
import type { PreconditionRegistry } from '../extensions/preconditions.js';

/** Escapes a value for a visibility query string literal. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function createPreconditionActivities(deps: { preconditions: PreconditionRegistry }) {
  return {
    async checkPrecondition(input: PreconditionInput): Promise<PreconditionResult> {
      const check = deps.preconditions.get(input.check);
      if (!check) {
        throw invalidInput(
          `precondition.check: the worker has no precondition "${input.check}" (it has: ${[...deps.preconditions.keys()].join(', ') || 'none'})`,
        );
      }
      const { revision, detail } = await check({
        trainer: input.trainer,
        ...(input.labels ? { labels: input.labels } : {}),
      });
      // The newest completed run promoted in this scope is "the last promoted run".
      const query = `WorkflowType = 'trainingRun' AND ${ArkorPromotedScope.name} = ${quoted(input.scope)} AND ExecutionStatus = 'Completed'`;
      for await (const execution of Context.current().client.workflow.list({ query, pageSize: 1 })) {
        const lastRevision = execution.typedSearchAttributes.get(ArkorRevision);
        return {
          revision,
          ...(detail === undefined ? {} : { detail }),
          ...(lastRevision === revision ? { samePromotedBy: execution.workflowId } : {}),
        };
      }
      return { revision, ...(detail === undefined ? {} : { detail }) };
    },
  };
}
