/**
 * Promotion: points an Arkor deployment at a new adapter, checks it answers, and issues its key.
 *
 * Each step is its own activity and each is idempotent, so a worker dying between (or inside)
 * steps never re-targets twice, never leaves two keys for one label and never loses the only
 * copy of a key: the workflow calls read → retarget → verify → (retarget back) → key.
 *
 * Secrets: deployment key plaintexts go to the worker's {@link KeyStore} and nowhere else — not
 * into return values, log lines or failure messages (the client redacts a key from edge errors).
 */
import { ApplicationFailure, cancellationSignal, log } from '@temporalio/activity';
import { ArkorResponseError, CloudApiError, isRetryableStatus, readChatText } from '../arkor/index.js';
import type { Deployment, DeploymentKey, DeploymentTarget } from '../arkor/index.js';
import type {
  DeploymentKeyInput,
  DeploymentKeyResult,
  DeploymentState,
  DeploymentTargetRef,
  RetargetInput,
  RetargetResult,
  VerifyInput,
  VerifyResult,
} from '../workflows/evaluation.js';
import type { ActivityDeps } from './deps.js';
import { FailureType, rethrowArkorError } from './failures.js';
import type { KeyStore } from './key-store.js';

/** What the promotion activities need; a full `ActivityDeps & { keyStore }` fits. */
export type PromotionDeps = Pick<ActivityDeps, 'arkor'> & {
  keyStore: KeyStore;
  /**
   * A temporary verification key older than this is an orphan of a crashed attempt and is
   * revoked by the next verification of the deployment. Default 10 minutes.
   */
  verificationKeyMaxAgeMs?: number;
};

/** Label prefix of the short-lived keys `verifyDeployment` creates when the store has none. */
export const VERIFICATION_KEY_LABEL_PREFIX = 'arkor-temporal verification';
const DEFAULT_VERIFICATION_KEY_MAX_AGE_MS = 10 * 60_000;

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

function errorText(error: unknown): string {
  if (error instanceof CloudApiError) return `${error.status} ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function createPromotionActivities(deps: PromotionDeps) {
  const { arkor, keyStore } = deps;
  const verificationKeyMaxAgeMs = deps.verificationKeyMaxAgeMs ?? DEFAULT_VERIFICATION_KEY_MAX_AGE_MS;

  async function findBySlug(slug: string): Promise<Deployment | undefined> {
    try {
      return (await arkor.listDeployments({ signal: cancellationSignal() })).find((d) => d.slug === slug);
    } catch (error) {
      rethrowArkorError(error, `list deployments (looking for ${slug})`);
    }
  }

  /** Creates the deployment; a 409 means an earlier attempt (or someone else) already did. */
  async function createOrFind(input: RetargetInput, authMode: 'none' | 'fixed_api_key'): Promise<{ deployment: Deployment; created: boolean }> {
    try {
      const deployment = await arkor.createDeployment({ slug: input.slug, target: input.target, authMode }, { signal: cancellationSignal() });
      return { deployment, created: true };
    } catch (error) {
      if (!(error instanceof CloudApiError && error.status === 409)) rethrowArkorError(error, `create deployment ${input.slug}`);
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
  async function chatThroughEdge(input: VerifyInput, apiKey: string | undefined): Promise<VerifyResult & { status?: number }> {
    const body = {
      messages: input.prompt.messages,
      stream: false,
      ...(input.prompt.maxTokens !== undefined ? { max_tokens: input.prompt.maxTokens } : {}),
    };
    try {
      const response = await arkor.edgeChat(input.slug, apiKey, body, { signal: cancellationSignal() });
      const answer = await readChatText(response);
      if (answer.trim() === '') return { ok: false, reason: `deployment ${input.slug} answered an empty message to prompt ${input.prompt.name}` };
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
      const created = await arkor.createDeploymentKey(deploymentId, { label: `${VERIFICATION_KEY_LABEL_PREFIX} ${new Date().toISOString()}` }, { signal: cancellationSignal() });
      keyId = created.id;
      plaintext = created.plaintext;
    } catch (error) {
      if (isTransient(error)) rethrowArkorError(error, `create a verification key for deployment ${input.slug}`);
      return { ok: false, reason: `could not create a verification key for deployment ${input.slug}: ${errorText(error)}` };
    }
    try {
      return await chatThroughEdge(input, plaintext);
    } finally {
      try {
        await revokeKey(deploymentId, keyId);
      } catch (error) {
        log.warn('Could not revoke the verification key; the next verification will', { slug: input.slug, keyId, error: errorText(error) });
      }
    }
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
          log.info('Deployment created', { slug: input.slug, deploymentId: outcome.deployment.id, target: describeTarget(input.target) });
          return { deployment: toDeploymentState(outcome.deployment), changed: true, created: true };
        }
        deployment = outcome.deployment;
      }
      const current = toDeploymentState(deployment);
      if (sameTarget(current.target, input.target)) return { deployment: current, changed: false, created: false };
      let updated: Deployment;
      try {
        updated = await arkor.updateDeployment(deployment.id, { target: input.target }, { signal: cancellationSignal() });
      } catch (error) {
        rethrowArkorError(error, `retarget deployment ${input.slug}`);
      }
      log.info('Deployment retargeted', { slug: input.slug, from: describeTarget(current.target), to: describeTarget(input.target) });
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
        return { ok: false, reason: `deployment ${input.slug} serves the ${describeTarget(state.target)}, expected the ${describeTarget(input.target)}` };
      }
      if (!state.enabled) return { ok: false, reason: `deployment ${input.slug} is disabled` };
      if (state.authMode === 'none') return chatThroughEdge(input, undefined);
      const stored = await keyStore.keyFor(input.slug);
      if (stored !== undefined) {
        const result = await chatThroughEdge(input, stored);
        // A stored key may be stale (revoked by hand, or from an earlier deployment of the slug):
        // that says nothing about the adapter, so check again with a key of our own.
        if (result.status !== 401) return { ok: result.ok, ...(result.reason !== undefined ? { reason: result.reason } : {}) };
        log.warn('The stored key was refused by the edge; verifying with a temporary key', { slug: input.slug });
      }
      return chatWithVerificationKey(input, deployment.id);
    },

    /**
     * Issues the deployment key labelled `label`, once: a live key with that label whose plaintext
     * is in the store is returned as is; a live one whose plaintext is not (a crash between create
     * and store) is revoked and replaced. The plaintext goes to the key store only.
     */
    async createDeploymentKey(input: DeploymentKeyInput): Promise<DeploymentKeyResult> {
      const label = input.label.trim();
      let keys: DeploymentKey[];
      try {
        keys = await arkor.listDeploymentKeys(input.deploymentId, { signal: cancellationSignal() });
      } catch (error) {
        rethrowArkorError(error, `list the keys of deployment ${input.slug}`);
      }
      const live = keys.filter((key) => key.enabled && key.label === label).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      const orphans: DeploymentKey[] = [];
      for (const key of live) {
        const stored = await keyStore.get(input.slug, key.id);
        if (stored !== undefined) return { keyId: key.id, prefix: key.prefix, storedAt: stored.path };
        orphans.push(key);
      }
      for (const key of orphans) {
        // Nobody holds its plaintext any more, so nobody can use it: a live orphan is only a risk.
        try {
          await revokeKey(input.deploymentId, key.id);
        } catch (error) {
          rethrowArkorError(error, `revoke orphaned key ${key.id} of deployment ${input.slug}`);
        }
        log.warn('Revoked a deployment key whose plaintext was not stored', { slug: input.slug, keyId: key.id, prefix: key.prefix });
      }
      let keyId: string;
      let prefix: string;
      let storedAt: string;
      try {
        const created = await arkor.createDeploymentKey(input.deploymentId, { label }, { signal: cancellationSignal() });
        keyId = created.id;
        prefix = created.prefix;
        // If this throws, the next attempt finds the key without a plaintext and replaces it.
        storedAt = await keyStore.put(input.slug, created.id, created.plaintext);
      } catch (error) {
        rethrowArkorError(error, `create a key for deployment ${input.slug}`);
      }
      log.info('Deployment key created and stored', { slug: input.slug, keyId, prefix, storedAt });
      return { keyId, prefix, storedAt };
    },
  };
}

export type PromotionActivities = ReturnType<typeof createPromotionActivities>;
