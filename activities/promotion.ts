/**
 * Promotion: points an Arkor deployment at a new adapter, checks it answers, and issues its key.
 *
 * Each step is its own activity and each is idempotent, so a worker dying between (or inside)
 * steps never re-targets twice and never leaves two keys for one label: the workflow calls
 * read → retarget → verify → (retarget back) → key.
 *
 * Deployment keys. Arkor returns a key's plaintext once, in the create response, and has no
 * idempotency key; the design keeps secrets out of workflow history. So the plaintext goes to the
 * key store of the worker that created the key ({@link KeyStore}) and nowhere else — not into
 * return values, log lines or failure messages (the client redacts a key from edge errors); the
 * operator takes it from there. What makes the key idempotent is Arkor's own list, not that disk:
 * the label carries a marker of the workflow ({@link markedKeyLabel}), so a retry on any worker
 * finds the key its run created, and a later run finds the live key of its label. No key a client
 * may hold is ever revoked here: a missing local plaintext only means another worker (or a
 * person) holds it.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, activityInfo, cancellationSignal, log, sleep } from '@temporalio/activity';
import { ArkorResponseError, CloudApiError, isRetryableStatus, readChatText } from '../arkor/index.js';
import type { CreatedDeploymentKey, Deployment, DeploymentKey, DeploymentTarget } from '../arkor/index.js';
import type {
  DeploymentKeyInput,
  DeploymentState,
  DeploymentTargetRef,
  RetargetInput,
  RetargetResult,
  VerifyInput,
  VerifyResult,
} from '../contract/evaluation.js';
import type { ActivityDeps } from './deps.js';
import { FailureType, rethrowArkorError } from './failures.js';
import type { KeyStore } from './key-store.js';
import type { IssuedDeploymentKey } from '../contract/activities.js';
import { errorMessage } from '../contract/errors.js';

/** What the promotion activities need; a full `ActivityDeps & { keyStore }` fits. */
export type PromotionDeps = Pick<ActivityDeps, 'arkor'> & {
  keyStore: KeyStore;
  /**
   * A temporary verification key older than this is an orphan of a crashed attempt and is
   * revoked by the next verification of the deployment. Default 10 minutes.
   */
  verificationKeyMaxAgeMs?: number;
  /**
   * After a key create whose answer was lost (network error, timeout, 5xx), the key list is read
   * again after each of these delays, to find and revoke the key the request may have made: its
   * plaintext was only in the lost answer. Default 0, 1, 2 and 4 s.
   */
  lostCreateProbeDelaysMs?: readonly number[];
};

/** Label prefix of the short-lived keys `verifyDeployment` creates when the store has none. */
export const VERIFICATION_KEY_LABEL_PREFIX = 'arkor-temporal verification';
const DEFAULT_VERIFICATION_KEY_MAX_AGE_MS = 10 * 60_000;
const DEFAULT_LOST_CREATE_PROBE_DELAYS_MS: readonly number[] = [0, 1_000, 2_000, 4_000];

/** Longest key label the cloud-api accepts (docs/arkor-protocol.md §9.3). */
const MAX_KEY_LABEL_CHARS = 80;
/** A label ending in a run marker; group 1 is the label the run was asked for (maybe shortened). */
const MARKED_LABEL = /^(.*) \[wf:[0-9a-f]{16}\]$/s;

/** The marker a run puts in the labels of the keys it creates: a short hash of its workflow id. */
export function keyMarker(workflowId: string): string {
  // The workflow id, not the run id: it survives continue-as-new and a retried workflow.
  return `[wf:${createHash('sha256').update(`deployment-key\0${workflowId}`).digest('hex').slice(0, 16)}]`;
}

/** The label a run's key gets in Arkor: the requested label, shortened to fit, then the run's marker. */
export function markedKeyLabel(label: string, workflowId: string): string {
  const marker = keyMarker(workflowId);
  return `${label
    .trim()
    .slice(0, MAX_KEY_LABEL_CHARS - marker.length - 1)
    .trimEnd()} ${marker}`;
}

/** The target as our contract names it: exactly the fields that identify it, nothing the server added. */
export function toTargetRef(target: DeploymentTarget): DeploymentTargetRef {
  if (target.kind === 'base_model') return { kind: 'base_model', baseModel: target.baseModel };
  const adapter = target.adapter;
  return adapter.kind === 'checkpoint'
    ? { kind: 'adapter', adapter: { kind: 'checkpoint', jobId: adapter.jobId, step: adapter.step } }
    : { kind: 'adapter', adapter: { kind: 'final', jobId: adapter.jobId } };
}

/** Whether two targets name the same model (kind, job id, step, base model). */
export function sameTarget(a: DeploymentTargetRef, b: DeploymentTargetRef): boolean {
  if (a.kind === 'base_model' || b.kind === 'base_model') {
    return a.kind === 'base_model' && b.kind === 'base_model' && a.baseModel === b.baseModel;
  }
  const x = a.adapter;
  const y = b.adapter;
  if (x.kind !== y.kind || x.jobId !== y.jobId) return false;
  return x.kind === 'final' || (y.kind === 'checkpoint' && x.step === y.step);
}

/** A target in a few words, for reasons and logs. */
export function describeTarget(target: DeploymentTargetRef): string {
  if (target.kind === 'base_model') return `base model ${target.baseModel}`;
  return target.adapter.kind === 'final'
    ? `final adapter of job ${target.adapter.jobId}`
    : `checkpoint ${target.adapter.step} of job ${target.adapter.jobId}`;
}

/** A deployment as the workflow keeps it. */
export function toDeploymentState(deployment: Deployment): DeploymentState {
  return {
    deploymentId: deployment.id,
    slug: deployment.slug,
    target: toTargetRef(deployment.target),
    authMode: deployment.authMode,
    enabled: deployment.enabled,
  };
}

function notFound(error: unknown): boolean {
  return error instanceof CloudApiError && error.status === 404;
}

/** Network errors, timeouts and 5xx/429/408 are worth retrying; any other status is a verdict. */
function isTransient(error: unknown): boolean {
  if (error instanceof CloudApiError) return isRetryableStatus(error.status);
  return !(error instanceof ArkorResponseError);
}

/** Whether a failed create may still have created the key: no answer, a 5xx, or an unreadable 2xx. */
function mayHaveCreated(error: unknown): boolean {
  return !(error instanceof CloudApiError && error.status < 500);
}

function errorText(error: unknown): string {
  if (error instanceof CloudApiError) return `${error.status} ${error.message}`;
  return errorMessage(error);
}

export function createPromotionActivities(deps: PromotionDeps) {
  const { arkor, keyStore } = deps;
  const verificationKeyMaxAgeMs = deps.verificationKeyMaxAgeMs ?? DEFAULT_VERIFICATION_KEY_MAX_AGE_MS;
  const lostCreateProbeDelaysMs = deps.lostCreateProbeDelaysMs ?? DEFAULT_LOST_CREATE_PROBE_DELAYS_MS;

  async function findBySlug(slug: string): Promise<Deployment | undefined> {
    try {
      return (await arkor.listDeployments({ signal: cancellationSignal() })).find((d) => d.slug === slug);
    } catch (error) {
      rethrowArkorError(error, `list deployments (looking for ${slug})`);
    }
  }

  /** Creates the deployment; a 409 means an earlier attempt (or someone else) already did. */
  async function createOrFind(
    input: RetargetInput,
    authMode: 'none' | 'fixed_api_key',
  ): Promise<{ deployment: Deployment; created: boolean }> {
    try {
      const deployment = await arkor.createDeployment(
        { slug: input.slug, target: input.target, authMode },
        { signal: cancellationSignal() },
      );
      return { deployment, created: true };
    } catch (error) {
      if (!(error instanceof CloudApiError && error.status === 409))
        rethrowArkorError(error, `create deployment ${input.slug}`);
    }
    const existing = await findBySlug(input.slug);
    if (existing === undefined) {
      // Slugs are global hostnames: taken, yet not in our project, means another project owns it.
      throw ApplicationFailure.create({
        type: FailureType.ArkorRejected,
        message: `deployment slug ${input.slug} is taken outside this project`,
        nonRetryable: true,
      });
    }
    return { deployment: existing, created: false };
  }

  /** Revokes a key; one that is already gone counts as revoked. */
  async function revokeKey(deploymentId: string, keyId: string): Promise<void> {
    try {
      await arkor.revokeDeploymentKey(deploymentId, keyId, { signal: cancellationSignal() });
    } catch (error) {
      if (!notFound(error)) throw error;
    }
  }

  /**
   * Revokes verification keys left behind by attempts that died before their own cleanup. Only
   * old ones: a younger key may belong to a verification running right now elsewhere.
   */
  async function sweepVerificationKeys(deploymentId: string, keys: DeploymentKey[]): Promise<void> {
    const cutoff = Date.now() - verificationKeyMaxAgeMs;
    for (const key of keys) {
      if (!key.enabled || !key.label.startsWith(VERIFICATION_KEY_LABEL_PREFIX)) continue;
      const createdAt = Date.parse(key.createdAt);
      if (Number.isNaN(createdAt) || createdAt > cutoff) continue;
      await revokeKey(deploymentId, key.id);
      log.info('Revoked an orphaned verification key', { deploymentId, keyId: key.id, prefix: key.prefix });
    }
  }

  /** One non-streamed chat through the edge; a non-empty answer passes. Transient errors throw. */
  async function chatThroughEdge(
    input: VerifyInput,
    apiKey: string | undefined,
  ): Promise<VerifyResult & { status?: number }> {
    const body = {
      messages: input.prompt.messages,
      stream: false,
      ...(input.prompt.maxTokens !== undefined ? { max_tokens: input.prompt.maxTokens } : {}),
    };
    try {
      const response = await arkor.edgeChat(input.slug, apiKey, body, { signal: cancellationSignal() });
      const answer = await readChatText(response);
      if (answer.trim() === '')
        return {
          ok: false,
          reason: `deployment ${input.slug} answered an empty message to prompt ${input.prompt.name}`,
        };
      return { ok: true };
    } catch (error) {
      if (isTransient(error)) rethrowArkorError(error, `chat through the edge of deployment ${input.slug}`);
      return {
        ok: false,
        reason: `chat through the edge of deployment ${input.slug} failed: ${errorText(error)}`,
        ...(error instanceof CloudApiError ? { status: error.status } : {}),
      };
    }
  }

  /**
   * Chats with a short-lived key created for this check, then revokes it. Used when the store has
   * no key for the slug (the run did not ask for one, or keys were issued elsewhere) or when the
   * stored one is refused. A failed revoke is logged, not fatal: the next verification sweeps it.
   */
  async function chatWithVerificationKey(input: VerifyInput, deploymentId: string): Promise<VerifyResult> {
    let keys: DeploymentKey[];
    try {
      keys = await arkor.listDeploymentKeys(deploymentId, { signal: cancellationSignal() });
    } catch (error) {
      if (isTransient(error)) rethrowArkorError(error, `list the keys of deployment ${input.slug}`);
      return { ok: false, reason: `could not list the keys of deployment ${input.slug}: ${errorText(error)}` };
    }
    await sweepVerificationKeys(deploymentId, keys);
    let keyId: string;
    let plaintext: string;
    try {
      const created = await arkor.createDeploymentKey(
        deploymentId,
        { label: `${VERIFICATION_KEY_LABEL_PREFIX} ${new Date().toISOString()}` },
        { signal: cancellationSignal() },
      );
      keyId = created.id;
      plaintext = created.plaintext;
    } catch (error) {
      if (isTransient(error)) rethrowArkorError(error, `create a verification key for deployment ${input.slug}`);
      return {
        ok: false,
        reason: `could not create a verification key for deployment ${input.slug}: ${errorText(error)}`,
      };
    }
    try {
      return await chatThroughEdge(input, plaintext);
    } finally {
      try {
        await revokeKey(deploymentId, keyId);
      } catch (error) {
        log.warn('Could not revoke the verification key; the next verification will', {
          slug: input.slug,
          keyId,
          error: errorText(error),
        });
      }
    }
  }

  /**
   * Finds and revokes the key made by a create whose answer this attempt never got: a key with
   * this run's label that was not in the list read before the create. Nobody can hold it, as its
   * plaintext was only in that answer; left live, it would be what every retry takes. The server
   * may act on the request after the client gave up, so the list is read a few times. Gives up
   * quietly (the retry then takes that key, without a plaintext, and says so). A zombie attempt of
   * the same run creating at the same moment would lose its key too: it never reported it.
   */
  async function revokeLostCreate(
    input: DeploymentKeyInput,
    ownLabel: string,
    known: ReadonlySet<string>,
  ): Promise<void> {
    for (const delayMs of lostCreateProbeDelaysMs) {
      if (delayMs > 0) await sleep(delayMs);
      let keys: DeploymentKey[];
      try {
        keys = await arkor.listDeploymentKeys(input.deploymentId, { signal: cancellationSignal() });
      } catch {
        continue;
      }
      const made = keys.filter((key) => key.enabled && key.label === ownLabel && !known.has(key.id));
      if (made.length === 0) continue;
      for (const key of made) {
        try {
          await revokeKey(input.deploymentId, key.id);
          log.warn('Revoked the key made by a create whose answer was lost (its plaintext went with the answer)', {
            slug: input.slug,
            keyId: key.id,
            prefix: key.prefix,
          });
        } catch (error) {
          log.warn('Could not revoke the key made by a create whose answer was lost', {
            slug: input.slug,
            keyId: key.id,
            error: errorText(error),
          });
        }
      }
      return;
    }
  }

  /**
   * Of several live keys, the one whose plaintext this worker's store holds, else the oldest: every
   * attempt, on any worker, then settles on the same key.
   */
  async function pickKey(
    slug: string,
    candidates: readonly DeploymentKey[],
  ): Promise<{ key: DeploymentKey; storedAt?: string } | undefined> {
    const ordered = [...candidates].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    for (const key of ordered) {
      const stored = await keyStore.get(slug, key.id);
      if (stored !== undefined) return { key, storedAt: stored.path };
    }
    const oldest = ordered[0];
    return oldest === undefined ? undefined : { key: oldest };
  }

  return {
    /** The deployment with this slug in the client's project, or null when there is none. */
    async readDeployment(slug: string): Promise<DeploymentState | null> {
      const deployment = await findBySlug(slug);
      return deployment === undefined ? null : toDeploymentState(deployment);
    },

    /**
     * Points deployment `slug` at `target`, creating it when absent and `createWith` is given.
     * Idempotent: a deployment already serving `target` is not patched (`changed: false`).
     * `created` is true only when this call's create succeeded. An existing deployment keeps its
     * auth mode and enabled flag. Missing without `createWith`, a target the cloud-api refuses
     * (4xx) or a slug owned by another project: non-retryable `ArkorRejected`.
     */
    async retarget(input: RetargetInput): Promise<RetargetResult> {
      let deployment = await findBySlug(input.slug);
      if (deployment === undefined) {
        if (input.createWith === undefined) {
          throw ApplicationFailure.create({
            type: FailureType.ArkorRejected,
            message: `deployment ${input.slug} does not exist`,
            nonRetryable: true,
          });
        }
        const outcome = await createOrFind(input, input.createWith.authMode);
        if (outcome.created) {
          log.info('Deployment created', {
            slug: input.slug,
            deploymentId: outcome.deployment.id,
            target: describeTarget(input.target),
          });
          return { deployment: toDeploymentState(outcome.deployment), changed: true, created: true };
        }
        deployment = outcome.deployment;
      }
      const current = toDeploymentState(deployment);
      if (sameTarget(current.target, input.target)) return { deployment: current, changed: false, created: false };
      let updated: Deployment;
      try {
        updated = await arkor.updateDeployment(
          deployment.id,
          { target: input.target },
          { signal: cancellationSignal() },
        );
      } catch (error) {
        rethrowArkorError(error, `retarget deployment ${input.slug}`);
      }
      log.info('Deployment retargeted', {
        slug: input.slug,
        from: describeTarget(current.target),
        to: describeTarget(input.target),
      });
      return { deployment: toDeploymentState(updated), changed: true, created: false };
    },

    /**
     * Checks that deployment `slug` serves `target`, is enabled, and answers `prompt` through its
     * public edge with a non-empty message. A `fixed_api_key` deployment is called with the
     * store's newest key for the slug; when there is none, or the edge refuses it (401), with a
     * short-lived key created for the check and revoked afterwards (label
     * {@link VERIFICATION_KEY_LABEL_PREFIX}; orphans of crashed attempts are revoked by later
     * checks). A failed check is `{ ok: false, reason }` for the workflow to roll back; transient
     * errors (network, timeouts, 5xx, 429, 408) throw and are retried.
     */
    async verifyDeployment(input: VerifyInput): Promise<VerifyResult> {
      const listed = await findBySlug(input.slug);
      if (listed === undefined) return { ok: false, reason: `deployment ${input.slug} does not exist` };
      let deployment: Deployment;
      try {
        deployment = await arkor.getDeployment(listed.id, { signal: cancellationSignal() });
      } catch (error) {
        if (isTransient(error)) rethrowArkorError(error, `read deployment ${input.slug}`);
        return { ok: false, reason: `could not read deployment ${input.slug}: ${errorText(error)}` };
      }
      const state = toDeploymentState(deployment);
      if (!sameTarget(state.target, input.target)) {
        return {
          ok: false,
          reason: `deployment ${input.slug} serves the ${describeTarget(state.target)}, expected the ${describeTarget(input.target)}`,
        };
      }
      if (!state.enabled) return { ok: false, reason: `deployment ${input.slug} is disabled` };
      if (state.authMode === 'none') return chatThroughEdge(input, undefined);
      const stored = await keyStore.keyFor(input.slug);
      if (stored !== undefined) {
        const result = await chatThroughEdge(input, stored);
        // A stored key may be stale (revoked by hand, or from an earlier deployment of the slug):
        // that says nothing about the adapter, so check again with a key of our own.
        if (result.status !== 401)
          return { ok: result.ok, ...(result.reason !== undefined ? { reason: result.reason } : {}) };
        log.warn('The stored key was refused by the edge; verifying with a temporary key', { slug: input.slug });
      }
      return chatWithVerificationKey(input, deployment.id);
    },

    /**
     * Issues the deployment key labelled `label`, once per deployment, whichever worker runs it.
     * Looks in Arkor's key list (never at the local disk alone): a live key carrying this
     * workflow's marker (an earlier attempt's, maybe on another worker) is returned; else a live
     * key with the label from elsewhere (an earlier run, a person) is returned and left alone;
     * only when there is neither is a key created, labelled with this workflow's marker, and its
     * plaintext stored in this worker's key store. Revokes nothing a client may hold: the only
     * keys it ever revokes are ones this same call created and whose plaintext it never got (a
     * lost answer) or could not store.
     */
    async createDeploymentKey(input: DeploymentKeyInput): Promise<IssuedDeploymentKey> {
      const label = input.label.trim();
      const info = activityInfo();
      // Outside a workflow (a standalone activity) the activity id is the nearest stable owner.
      const ownLabel = markedKeyLabel(label, info.workflowExecution?.workflowId ?? `activity:${info.activityId}`);
      const stem = MARKED_LABEL.exec(ownLabel)?.[1];
      let keys: DeploymentKey[];
      try {
        keys = await arkor.listDeploymentKeys(input.deploymentId, { signal: cancellationSignal() });
      } catch (error) {
        rethrowArkorError(error, `list the keys of deployment ${input.slug}`);
      }
      const live = keys.filter((key) => key.enabled);
      const own = live.filter((key) => key.label === ownLabel);
      const others = live.filter(
        (key) => key.label !== ownLabel && (key.label === label || MARKED_LABEL.exec(key.label)?.[1] === stem),
      );
      for (const [candidates, origin] of [
        [own, 'reattached'],
        [others, 'existing'],
      ] as const) {
        const found = await pickKey(input.slug, candidates);
        if (found === undefined) continue;
        const { key, storedAt } = found;
        const issued: IssuedDeploymentKey = {
          keyId: key.id,
          prefix: key.prefix,
          label: key.label,
          origin,
          ...(storedAt !== undefined ? { storedAt } : {}),
        };
        if (storedAt === undefined) {
          log.warn(
            origin === 'reattached'
              ? 'Deployment key created by an earlier attempt of this run; its plaintext is in the key store of the worker that created it, not here (or was lost if that worker died before storing it)'
              : "A live deployment key with this label exists; keeping it (its plaintext is not in this worker's key store)",
            { slug: input.slug, keyId: key.id, prefix: key.prefix, label: key.label },
          );
        } else {
          log.info('Deployment key already issued', {
            slug: input.slug,
            keyId: key.id,
            prefix: key.prefix,
            origin,
            storedAt,
          });
        }
        return issued;
      }
      let created: CreatedDeploymentKey;
      try {
        created = await arkor.createDeploymentKey(
          input.deploymentId,
          { label: ownLabel },
          { signal: cancellationSignal() },
        );
      } catch (error) {
        if (mayHaveCreated(error)) await revokeLostCreate(input, ownLabel, new Set(keys.map((key) => key.id)));
        rethrowArkorError(error, `create a key for deployment ${input.slug}`);
      }
      let storedAt: string;
      try {
        storedAt = await keyStore.put(input.slug, created.id, created.plaintext);
      } catch (error) {
        // The plaintext never left this call, so nobody can hold the key: revoking it is safe, and
        // the retry issues a usable one. (A worker killed right here leaves a live key whose
        // plaintext is lost; the retry takes it as this run's key, and says so.)
        try {
          await revokeKey(input.deploymentId, created.id);
        } catch (revokeError) {
          log.warn('Could not revoke the key whose plaintext could not be stored', {
            slug: input.slug,
            keyId: created.id,
            error: errorText(revokeError),
          });
        }
        throw error;
      }
      log.info('Deployment key created and stored', {
        slug: input.slug,
        keyId: created.id,
        prefix: created.prefix,
        storedAt,
      });
      return { keyId: created.id, prefix: created.prefix, label: created.label, origin: 'created', storedAt };
    },
  };
}

export type PromotionActivities = ReturnType<typeof createPromotionActivities>;
