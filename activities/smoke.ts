/**
 * The smoke-test activity: runs the golden prompts against a checkpoint, the final adapter, the
 * base model or what a deployment serves, and scores the answers.
 *
 * Error policy, per prompt: a permanent answer about the prompt or the target (400, 404, 409,
 * 413, 422 such as "bad adapter", or a 2xx that is not a chat answer) scores that prompt 0 with
 * the error as its detail, so one bad prompt does not block the run. A transient failure (408,
 * 425, 429, 5xx, network, timeout) is thrown as is, so Temporal retries the activity. Any other
 * permanent status (401, 403, 426: credentials or client version) fails the activity without
 * retry: every prompt would fail the same way, and a 0 would read as a bad model.
 */
import { Context } from '@temporalio/activity';
import { ArkorResponseError, CloudApiError, isRetryableStatus, readChatText } from '../arkor/index.js';
import type { ChatRequest, EdgeChatRequest } from '../arkor/index.js';
import {
  describeSmokeTarget,
  type PromptScore,
  type SmokeScore,
  type SmokeTarget,
  type SmokeTestInput,
} from '../contract/evaluation.js';
import type { GoldenPrompt } from '../contract/input.js';
import type { ActivityDeps } from './deps.js';
import { invalidInput, rethrowArkorError } from './failures.js';
import { ScorerFailedError, chatRequestFor, expectationProblem, scoreAnswer, weightedScore } from './scoring.js';
import type { ScorerRegistry } from '../extensions/scorers.js';
import { errorMessage } from '../contract/errors.js';

/** Characters of each answer kept in the result (`PromptScore.sample`). */
export const SAMPLE_CHARS = 200;

/** Statuses that condemn one prompt (its body or its target) rather than the whole test. */
const PROMPT_LEVEL_STATUSES: ReadonlySet<number> = new Set([400, 404, 409, 413, 422]);

/**
 * Gives the plaintext of a deployment key for the edge, or undefined to call without one (a
 * deployment with `authMode: "none"`). The promotion helper implements it from the worker's key
 * store; the key never enters the activity's input or result.
 */
export interface DeploymentKeyReader {
  keyFor(slug: string): Promise<string | undefined>;
}

/** What the smoke test needs: the client (any `ActivityDeps` will do), scorers and deployment keys. */
export interface SmokeDeps extends Pick<ActivityDeps, 'arkor'> {
  /** Scorers for `{ scorer }` expectations (see `loadScorers`). */
  scorers: ScorerRegistry;
  /** Keys for `deployment` targets. Default: none (only open deployments can be scored). */
  deploymentKeys?: DeploymentKeyReader;
}

/** The activity context, or undefined when called directly (tests, scripts). */
function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function errorText(error: unknown): string {
  if (error instanceof CloudApiError) return `${error.status}: ${error.message}`;
  return errorMessage(error);
}

/** A failed score for a prompt that produced no answer. */
function zero(prompt: GoldenPrompt, detail: string): PromptScore {
  return { name: prompt.name, score: 0, sample: '', detail };
}

/** The same request in the OpenAI shape the deployment edge speaks (snake_case fields, docs/arkor-protocol.md §9.1). */
export function edgeRequestFor(request: ChatRequest): EdgeChatRequest {
  return {
    messages: request.messages,
    ...(request.stream === undefined ? {} : { stream: request.stream }),
    ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    ...(request.responseFormat === undefined ? {} : { response_format: request.responseFormat }),
  };
}

type Ask = (request: ChatRequest, signal: AbortSignal | undefined) => Promise<Response>;

export function createSmokeActivities(deps: SmokeDeps) {
  /** How to ask the target, or why it cannot be asked at all. */
  async function askerFor(
    target: SmokeTarget,
    signal: AbortSignal | undefined,
  ): Promise<Ask | { unavailable: string }> {
    const options = (s: AbortSignal | undefined) => (s === undefined ? {} : { signal: s });
    switch (target.kind) {
      case 'checkpoint': {
        const adapter = { kind: 'checkpoint' as const, jobId: target.jobId, step: target.step };
        return (request, s) => deps.arkor.chat({ ...request, adapter }, options(s));
      }
      case 'final': {
        const adapter = { kind: 'final' as const, jobId: target.jobId };
        return (request, s) => deps.arkor.chat({ ...request, adapter }, options(s));
      }
      case 'base':
        return (request, s) => deps.arkor.chat({ ...request, baseModel: target.model }, options(s));
      case 'deployment': {
        let deployments;
        try {
          deployments = await deps.arkor.listDeployments(options(signal));
        } catch (error) {
          return rethrowArkorError(error, `smoke test: listing deployments to find "${target.slug}"`);
        }
        const deployment = deployments.find((candidate) => candidate.slug === target.slug);
        if (!deployment) return { unavailable: `no deployment ${target.slug}` };
        if (!deployment.enabled) return { unavailable: `deployment ${target.slug} is disabled` };
        const key = await deps.deploymentKeys?.keyFor(target.slug);
        return (request, s) => deps.arkor.edgeChat(target.slug, key, edgeRequestFor(request), options(s));
      }
    }
  }

  async function runPrompt(
    ask: Ask,
    prompt: GoldenPrompt,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<PromptScore> {
    let answer: string;
    try {
      answer = await readChatText(await ask(chatRequestFor(prompt), signal));
    } catch (error) {
      if (signal?.aborted) throw error;
      if (error instanceof ArkorResponseError) return zero(prompt, errorText(error));
      if (error instanceof CloudApiError && !isRetryableStatus(error.status)) {
        if (PROMPT_LEVEL_STATUSES.has(error.status)) return zero(prompt, errorText(error));
        rethrowArkorError(error, `smoke test of ${what}, prompt "${prompt.name}"`);
      }
      throw error;
    }
    const sample = answer.slice(0, SAMPLE_CHARS);
    try {
      const { score, detail } = await scoreAnswer(answer, prompt.expect, deps.scorers, prompt);
      return { name: prompt.name, score, sample, detail };
    } catch (error) {
      // A buggy scorer condemns its prompt only; re-running inference would not fix it.
      if (error instanceof ScorerFailedError) return { name: prompt.name, score: 0, sample, detail: error.message };
      throw error;
    }
  }

  return {
    /**
     * Runs `input.prompts` one after the other against `input.target` (a checkpoint is served by
     * a training cluster busy training, so never in parallel) and returns each prompt's score and
     * their weighted mean. (The worker keeps it heartbeating; see activities/heartbeat.ts.)
     * A missing or disabled deployment scores every prompt 0. Throws a non-retryable
     * `InvalidInput` failure, before any inference, when an expectation cannot be scored here
     * (unknown scorer, invalid JSON Schema or regex flags).
     */
    async smokeTest(input: SmokeTestInput): Promise<SmokeScore> {
      const { target, prompts } = input;
      for (const [index, prompt] of prompts.entries()) {
        const problem = expectationProblem(prompt.expect, deps.scorers);
        if (problem) throw invalidInput(`smokeTest.prompts.${index} ("${prompt.name}"): ${problem}`);
      }
      const context = currentContext();
      const signal = context?.cancellationSignal;
      const what = describeSmokeTarget(target, { withJob: true });
      const ask = await askerFor(target, signal);
      const scores: PromptScore[] = [];
      for (const prompt of prompts) {
        scores.push(
          typeof ask === 'function' ? await runPrompt(ask, prompt, signal, what) : zero(prompt, ask.unavailable),
        );
      }
      return {
        target,
        score: weightedScore(
          scores,
          prompts.map((prompt) => prompt.weight ?? 1),
        ),
        prompts: scores,
      };
    },
  };
}
