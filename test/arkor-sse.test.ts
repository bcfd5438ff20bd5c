import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSseFrames, type SseFrame } from '../arkor/sse.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(chunks: string[], onBytes?: () => void): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  for await (const frame of readSseFrames(streamOf(chunks), onBytes ? { onBytes } : {})) frames.push(frame);
  return frames;
}

describe('readSseFrames', () => {
  it('delivers frames with id, event and data', async () => {
    const frames = await collect(['id: 7\nevent: training.log\ndata: {"a":1}\n\n', 'event: ping\ndata:\n\n']);
    assert.deepEqual(frames, [
      { id: '7', event: 'training.log', data: '{"a":1}' },
      { event: 'ping', data: '' },
    ]);
  });

  it('only delivers frames with a data line; id is per frame; empty id is undefined', async () => {
    const frames = await collect(['event: ping\n\nid: 1\n\nid:\ndata: a\n\ndata: b\n\n']);
    assert.deepEqual(frames, [{ data: 'a' }, { data: 'b' }]);
  });

  it('joins multiple data lines, strips one space, handles CRLF and CR, ignores comments and retry', async () => {
    const frames = await collect([': comment\r\nretry: 5\r\ndata:  x\r\ndata:y\r\n\r\n', 'id: 2\rdata: z\r\r']);
    assert.deepEqual(frames, [{ data: ' x\ny' }, { id: '2', data: 'z' }]);
  });

  it('reassembles frames split across chunks, including multi-byte characters', async () => {
    const bytes = new TextEncoder().encode('data: héllo\n\n');
    const parts = [bytes.slice(0, 8), bytes.slice(8)];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    });
    const frames: SseFrame[] = [];
    for await (const frame of readSseFrames(body)) frames.push(frame);
    assert.deepEqual(frames, [{ data: 'héllo' }]);
    assert.deepEqual(await collect(['da', 'ta: 1', '\n', '\nid: 9\ndata: 2\n\n']), [
      { data: '1' },
      { id: '9', data: '2' },
    ]);
  });

  it('drops an unterminated trailing frame', async () => {
    assert.deepEqual(await collect(['data: 1\n\ndata: 2\n']), [{ data: '1' }]);
    assert.deepEqual(await collect(['data: 1\n\ndata: 2']), [{ data: '1' }]);
  });

  it('fires onBytes for every chunk', async () => {
    let calls = 0;
    await collect(['a', 'b', 'c'], () => {
      calls += 1;
    });
    assert.equal(calls, 3);
  });

  it('cancels the body when the consumer stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: 1\n\ndata: 2\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const frame of readSseFrames(body)) {
      assert.equal(frame.data, '1');
      break;
    }
    assert.equal(cancelled, true);
  });
});
