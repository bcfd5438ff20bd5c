/**
 * Types shared by the workflow and the evaluation, promotion and notification activities.
 * Pure: no I/O, imported by workflow code.
 */
import type { DurationInput, GoldenPrompt, NotificationEvent } from './input.js';

/** What a smoke test runs its prompts against. */
export type SmokeTarget =
  | { kind: 'checkpoint'; jobId: string; step: number }
  | { kind: 'final'; jobId: string }
  | { kind: 'base'; model: string }
  /** What a deployment serves now, through its public edge. */
  | { kind: 'deployment'; slug: string };

/** A smoke target in words, for messages; `withJob` names the job too (for logs outside the run). */
export function describeSmokeTarget(target: SmokeTarget, { withJob = false }: { withJob?: boolean } = {}): string {
  const ofJob = (jobId: string): string => (withJob ? ` of job ${jobId}` : '');
  switch (target.kind) {
    case 'checkpoint':
      return `checkpoint ${target.step}${ofJob(target.jobId)}`;
    case 'final':
      return `the final adapter${ofJob(target.jobId)}`;
    case 'base':
      return `the base model ${target.model}`;
    case 'deployment':
      return `deployment ${target.slug}`;
  }
}

export interface SmokeTestInput {
  target: SmokeTarget;
  prompts: GoldenPrompt[];
}

export interface PromptScore {
  name: string;
  /** 0 to 1. */
  score: number;
  /** The first 200 characters of the answer. */
  sample: string;
  /** Why the answer scored what it did, in a few words (or the error that prevented an answer). */
  detail?: string;
}

export interface SmokeScore {
  target: SmokeTarget;
  /** Weighted mean of the prompt scores, 0 to 1. */
  score: number;
  prompts: PromptScore[];
}

/** A deployment target as the cloud-api names it. */
export type DeploymentTargetRef =
  | { kind: 'adapter'; adapter: { kind: 'final'; jobId: string } | { kind: 'checkpoint'; jobId: string; step: number } }
  | { kind: 'base_model'; baseModel: string };

export interface DeploymentState {
  deploymentId: string;
  slug: string;
  target: DeploymentTargetRef;
  authMode: 'none' | 'fixed_api_key';
  enabled: boolean;
}

export interface RetargetInput {
  slug: string;
  target: DeploymentTargetRef;
  /** Create the deployment with this auth mode when it does not exist. */
  createWith?: { authMode: 'none' | 'fixed_api_key' };
}

export interface RetargetResult {
  deployment: DeploymentState;
  /** True when this call changed the target (false: it was already the requested one). */
  changed: boolean;
  created: boolean;
}

export interface VerifyInput {
  slug: string;
  target: DeploymentTargetRef;
  /** Chat through the deployment's edge with this prompt. */
  prompt: GoldenPrompt;
}

export interface VerifyResult {
  ok: boolean;
  reason?: string;
}

export interface DeploymentKeyInput {
  deploymentId: string;
  slug: string;
  label: string;
}

export interface DeploymentKeyResult {
  keyId: string;
  prefix: string;
  /** Where the worker stored the plaintext (a path on the worker, not the secret). */
  storedAt: string;
}

export interface NotificationInput {
  channel: string;
  event: NotificationEvent;
  /** Stable per run and event: receivers deduplicate on it (`Idempotency-Key`). */
  idempotencyKey: string;
  title: string;
  /** Short human lines (the Slack text). */
  lines: string[];
  /** Structured payload for JSON webhooks. */
  data: Record<string, unknown>;
  /** The run's `heartbeatTimeout`, for the delivery activity. */
  heartbeatTimeout?: DurationInput;
}

export interface PreconditionInput {
  check: string;
  scope: string;
  trainer: { name: string; model: string };
  labels?: Record<string, string>;
}

export interface PreconditionResult {
  revision: string;
  detail?: string;
  /** The last run promoted in the scope, when it trained on this same revision. */
  samePromotedBy?: string;
}
