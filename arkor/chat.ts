import { ArkorResponseError } from './errors.js';
import { parseJsonLenient } from './json.js';
import { readSseFrames } from './sse.js';

function recordOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function firstChoice(value: Record<string, unknown>): Record<string, unknown> | undefined {
  return Array.isArray(value.choices) ? recordOf(value.choices[0]) : undefined;
}

/** Text carried by one streamed chunk payload, or undefined when it carries none. */
function chunkText(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  const record = recordOf(payload);
  if (record === undefined) return undefined;
  const choice = firstChoice(record);
  if (choice !== undefined) {
    const delta = recordOf(choice.delta);
    if (typeof delta?.content === 'string') return delta.content;
    const message = recordOf(choice.message);
    return typeof message?.content === 'string' ? message.content : undefined;
  }
  if (typeof record.content === 'string') return record.content;
  if (typeof record.text === 'string') return record.text;
  return undefined;
}

/** The assistant text of a non-streamed completion (`choices[0].message.content`, null → ""). */
function completionText(payload: unknown): string {
  const record = recordOf(payload);
  const choice = record === undefined ? undefined : firstChoice(record);
  if (choice !== undefined) {
    const message = recordOf(choice.message);
    if (message !== undefined) return typeof message.content === 'string' ? message.content : '';
  }
  if (typeof record?.content === 'string') return record.content;
  if (typeof record?.text === 'string') return record.text;
  throw new ArkorResponseError('Unexpected chat response: no choices[0].message');
}

/**
 * Reads the assistant text of an inference chat response, in either mode (docs/arkor-protocol.md §8.2, §8.3):
 * - `text/event-stream`: concatenates chunk texts — OpenAI `choices[0].delta.content`,
 *   `{ content }`, `{ text }` or a bare JSON string — skipping `event: ping` and payloads without
 *   text, stopping at `data: [DONE]` or `event: end` (or the end of the body);
 * - otherwise a JSON chat completion: `choices[0].message.content` (null/absent → `""`).
 *
 * Consumes (and on early stop cancels) the body. Throws {@link ArkorResponseError} when the body
 * is neither.
 */
export async function readChatText(response: Response): Promise<string> {
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.includes('text/event-stream')) {
    return response.body === null ? '' : readStreamedText(response.body);
  }
  const text = await response.text();
  const parsed = parseJsonLenient(text);
  if (parsed.ok) return completionText(parsed.value);
  // Some servers stream without the right content type; accept SSE framing anyway.
  if (/^(data|event|id|:)/m.test(text)) return readStreamedText(new Blob([text]).stream());
  throw new ArkorResponseError(`Unexpected chat response: body is neither JSON nor SSE (${parsed.error})`);
}

async function readStreamedText(body: ReadableStream<Uint8Array>): Promise<string> {
  let text = '';
  for await (const frame of readSseFrames(body)) {
    if (frame.event === 'ping') continue;
    if (frame.event === 'end' || frame.data.trim() === '[DONE]') break;
    const parsed = parseJsonLenient(frame.data);
    if (!parsed.ok) continue;
    text += chunkText(parsed.value) ?? '';
  }
  return text;
}
