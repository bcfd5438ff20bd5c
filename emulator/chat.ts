/**
 * Inference: the chat route I1 (`POST /v1/inference/chat`, docs/arkor-protocol.md §8) and the OpenAI
 * chat-completion writer it shares with the deployment edge. Answers come from the fake model
 * at the quality of the requested adapter (or the base model).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Accounts } from './accounts.js';
import type { RequestContext, Route } from './context.js';
import { requirePrincipal } from './context.js';
import { HttpError, parseOr400, readJson, sendJson } from './http.js';
import type { JobStore } from './jobs.js';
import { BASE_MODEL_QUALITY, generateAnswer, qualityAt } from './model.js';

/** A trained adapter reference (final or checkpoint). */
export const adapterRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('final'), jobId: z.string().min(1) }).loose(),
  z.object({ kind: z.literal('checkpoint'), jobId: z.string().min(1), step: z.number().int().nonnegative() }).loose(),
]);
export type AdapterRef = z.infer<typeof adapterRefSchema>;

const messageSchema = z
  .object({ role: z.string().min(1), content: z.union([z.string(), z.array(z.unknown()), z.null()]).optional() })
  .loose();

const responseFormatSchema = z
  .object({
    type: z.enum(['text', 'json_object', 'json_schema']),
    json_schema: z
      .object({ schema: z.record(z.string(), z.unknown()).optional() })
      .loose()
      .optional(),
  })
  .loose();

const structuredOutputsSchema = z
  .object({
    json: z.record(z.string(), z.unknown()).optional(),
    json_object: z.boolean().optional(),
    choice: z.array(z.string()).min(1).optional(),
  })
  .loose();

/** The parts of a chat body the emulator acts on; everything else is accepted and ignored. */
export const chatBodySchema = z
  .object({
    messages: z.array(messageSchema).min(1),
    stream: z.boolean().optional(),
    maxTokens: z.number().int().positive().optional(),
    responseFormat: responseFormatSchema.optional(),
    structuredOutputs: structuredOutputsSchema.optional(),
  })
  .loose();
export type ChatBody = z.infer<typeof chatBodySchema>;

const inferenceBodySchema = chatBodySchema.extend({
  adapter: adapterRefSchema.optional(),
  baseModel: z.string().min(1).optional(),
});

/** What answers a chat request: a quality for the fake model and the `model` name to report. */
export interface ModelTarget {
  quality: number;
  model: string;
}

/** The base-model target. */
export function baseModelTarget(baseModel: string): ModelTarget {
  return { quality: BASE_MODEL_QUALITY, model: baseModel };
}

/**
 * Resolves an adapter of a job in `projectId`. Decision where the protocol is silent (docs/arkor-protocol.md §11 D11): an unknown
 * job, a checkpoint step that was not saved (yet), or the final adapter of a job that is not
 * `completed` are all 422 `{ "error": "bad adapter" }`, the status the SDK docs name for it.
 */
export function resolveAdapter(jobs: JobStore, projectId: string, adapter: AdapterRef): ModelTarget {
  const record = jobs.find(projectId, adapter.jobId);
  if (!record) throw new HttpError(422, 'bad adapter');
  const { maxSteps } = record.plan;
  if (adapter.kind === 'final') {
    if (record.job.status !== 'completed') throw new HttpError(422, 'bad adapter');
    return {
      quality: qualityAt(maxSteps, maxSteps, record.behaviour),
      model: `${String(record.job.config.model)}+${record.job.id}`,
    };
  }
  if (!record.savedSteps.has(adapter.step)) throw new HttpError(422, 'bad adapter');
  return {
    quality: qualityAt(adapter.step, maxSteps, record.behaviour),
    model: `${String(record.job.config.model)}+${record.job.id}@${adapter.step}`,
  };
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return (content as unknown[])
      .map((part: unknown) => {
        const text = part && typeof part === 'object' ? (part as { text?: unknown }).text : undefined;
        return typeof text === 'string' ? text : '';
      })
      .join('');
  }
  return '';
}

/** The prompt the fake model answers: the text of the last `user` message. */
export function promptOf(body: ChatBody): string {
  const user = [...body.messages].reverse().find((m) => m.role === 'user');
  return messageText(user?.content);
}

function defaultFor(schema: unknown): unknown {
  const type = schema && typeof schema === 'object' && 'type' in schema ? schema.type : undefined;
  const first = Array.isArray(type) ? (type as unknown[]).find((t) => t !== 'null') : type;
  switch (first) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return null;
  }
}

function isStringSchema(schema: unknown): boolean {
  const type = schema && typeof schema === 'object' && 'type' in schema ? schema.type : undefined;
  return type === 'string' || (Array.isArray(type) && type.includes('string'));
}

/** Shapes the answer as the JSON a schema asks for: the first string property carries the answer. */
function objectForSchema(schema: Record<string, unknown> | undefined, answer: string): Record<string, unknown> {
  const properties = schema?.properties;
  if (!properties || typeof properties !== 'object' || Object.keys(properties).length === 0) return { answer };
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [key, propSchema] of Object.entries(properties as Record<string, unknown>)) {
    if (!placed && isStringSchema(propSchema)) {
      out[key] = answer;
      placed = true;
    } else {
      out[key] = defaultFor(propSchema);
    }
  }
  return out;
}

/** Applies the JSON constraints of the body to the answer text (`content` is always a string). */
export function shapeContent(body: ChatBody, answer: string): string {
  const format = body.responseFormat;
  if (format?.type === 'json_object') return JSON.stringify({ answer });
  if (format?.type === 'json_schema') return JSON.stringify(objectForSchema(format.json_schema?.schema, answer));
  const so = body.structuredOutputs;
  if (so?.json) return JSON.stringify(objectForSchema(so.json, answer));
  if (so?.json_object) return JSON.stringify({ answer });
  if (so?.choice) {
    const lower = answer.toLowerCase();
    return so.choice.find((c) => lower.includes(c.toLowerCase())) ?? so.choice[0] ?? answer;
  }
  return answer;
}

function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Splits `text` into up to `parts` consecutive pieces whose concatenation is exactly `text`. */
export function splitForStreaming(text: string, parts = 4): string[] {
  if (text.length === 0) return [''];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * Answers a chat body with the fake model at `target`: an OpenAI chat completion, or (when
 * `stream`) chunk frames ended by `data: [DONE]`. `maxTokens` truncates plain-text answers by
 * words and reports `finish_reason: "length"`.
 */
export function writeCompletion(
  res: ServerResponse,
  body: ChatBody,
  target: ModelTarget,
  seed: number,
  stream: boolean,
): void {
  const prompt = promptOf(body);
  let answer = generateAnswer(prompt, target.quality, seed);
  let finishReason: 'stop' | 'length' = 'stop';
  const constrained =
    body.responseFormat?.type === 'json_object' ||
    body.responseFormat?.type === 'json_schema' ||
    body.structuredOutputs;
  if (!constrained && body.maxTokens !== undefined) {
    const words = answer.split(' ');
    if (words.length > body.maxTokens) {
      answer = words.slice(0, body.maxTokens).join(' ');
      finishReason = 'length';
    }
  }
  const content = shapeContent(body, answer);
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!stream) {
    const promptTokens = body.messages.reduce((n, m) => n + countTokens(messageText(m.content)), 0);
    const completionTokens = countTokens(content);
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: target.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model: target.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  splitForStreaming(content).forEach((piece, i) => {
    res.write(chunk(i === 0 ? { role: 'assistant', content: piece } : { content: piece }, null));
  });
  res.write(chunk({}, finishReason));
  res.end('data: [DONE]\n\n');
}

/** Route I1. */
export function chatRoute(deps: { accounts: Accounts; jobs: JobStore; seed: number }): Route {
  const { accounts, jobs, seed } = deps;
  return {
    method: 'POST',
    template: '/v1/inference/chat',
    auth: 'user',
    async handle(ctx: RequestContext) {
      const scope = accounts.projectScope(requirePrincipal(ctx), ctx.url);
      const body = parseOr400(inferenceBodySchema, await readJson(ctx.req));
      if (body.adapter && body.baseModel)
        throw new HttpError(400, 'invalid body: adapter and baseModel are mutually exclusive');
      let target: ModelTarget;
      if (body.adapter) target = resolveAdapter(jobs, scope.project.id, body.adapter);
      else if (body.baseModel) target = baseModelTarget(body.baseModel);
      else throw new HttpError(400, 'invalid body: adapter or baseModel is required');
      // Decision for the unspecified default (docs/arkor-protocol.md §11 D9): an absent `stream` answers JSON, like OpenAI's API.
      writeCompletion(ctx.res, body, target, seed, body.stream === true);
    },
  };
}
