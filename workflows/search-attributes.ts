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

export const searchAttributeKeys = [ArkorJobId, ArkorModel, ArkorPhase] as const;
