/**
 * Typed search attributes that make training runs findable in Temporal visibility. They must be
 * registered on the namespace before a run upserts them: the dev-server script and the test helper
 * register exactly this list, and `temporal operator search-attribute create` does it on a cluster.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The Arkor job id of the run, set once the job is submitted. */
export const ArkorJobId = defineSearchAttributeKey('ArkorJobId', SearchAttributeType.KEYWORD);
/** The base model being fine-tuned. */
export const ArkorModel = defineSearchAttributeKey('ArkorModel', SearchAttributeType.KEYWORD);
/** The run's phase (see `RunPhase`), kept current as the run moves on. */
export const ArkorPhase = defineSearchAttributeKey('ArkorPhase', SearchAttributeType.KEYWORD);

/** Revision of the training data (from the run's precondition check), when it has one. */
export const ArkorRevision = defineSearchAttributeKey('ArkorRevision', SearchAttributeType.KEYWORD);
/** Set on a run whose adapter was promoted: the scope of its precondition (deployment or name). */
export const ArkorPromotedScope = defineSearchAttributeKey('ArkorPromotedScope', SearchAttributeType.KEYWORD);

export const searchAttributeKeys = [ArkorJobId, ArkorModel, ArkorPhase, ArkorRevision, ArkorPromotedScope] as const;
