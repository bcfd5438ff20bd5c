import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readChatText } from '../arkor/chat.js';
import { ArkorResponseError } from '../arkor/errors.js';

function sse(body: string): Response {
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } });
}

function jsonResponse(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
}

describe('readChatText', () => {
  it('reads a JSON completion; null content is empty', async () => {
    assert.equal(
      await readChatText(
        jsonResponse({
          choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' }, finish_reason: 'stop' }],
        }),
      ),
      'Paris.',
    );
    assert.equal(
      await readChatText(
        jsonResponse({
          choices: [{ message: { role: 'assistant', content: null, tool_calls: [{}] }, finish_reason: 'tool_calls' }],
        }),
      ),
      '',
    );
    await assert.rejects(readChatText(jsonResponse({ nothing: true })), ArkorResponseError);
    await assert.rejects(
      readChatText(new Response('<html>', { headers: { 'Content-Type': 'text/html' } })),
      ArkorResponseError,
    );
  });

  it('concatenates OpenAI chunks and stops at [DONE]', async () => {
    const body = [
      'data: {"choices":[{"delta":{"role":"assistant","content":"Hel"}}]}',
      '',
      'event: ping',
      'data: ',
      '',
      'data: {"choices":[{"delta":{"content":"lo"},"finish_reason":null}]}',
      '',
      'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}',
      '',
      'data: [DONE]',
      '',
      'data: {"choices":[{"delta":{"content":" ignored"}}]}',
      '',
      '',
    ].join('\n');
    assert.equal(await readChatText(sse(body)), 'Hello');
  });

  it('accepts {content}, {text} and bare strings, skips junk, stops at event: end', async () => {
    const body =
      'data: {"content":"a"}\n\ndata: {"text":"b"}\n\ndata: "c"\n\ndata: not json\n\ndata: {"other":1}\n\nevent: end\ndata: {}\n\ndata: "d"\n\n';
    assert.equal(await readChatText(sse(body)), 'abc');
  });

  it('reads SSE framing served without the SSE content type', async () => {
    assert.equal(await readChatText(new Response('data: "x"\n\ndata: [DONE]\n\n')), 'x');
  });
});
