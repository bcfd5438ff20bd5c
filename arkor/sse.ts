import { createParser } from 'eventsource-parser';

/** One delivered SSE frame (docs/arkor-protocol.md §5.2). */
export interface SseFrame {
  /** The frame's `id:`; undefined when absent or empty (ids are per frame, not sticky). */
  id?: string;
  /** The frame's `event:`; undefined when absent (no implicit `message`). */
  event?: string;
  /** The `data:` lines joined with `\n` (may be empty). */
  data: string;
}

/** Options of {@link readSseFrames}. */
export interface ReadSseFramesOptions {
  /** Called on every chunk read from the body, before it is parsed (idle watchdogs hook in here). */
  onBytes?: () => void;
}

/**
 * Reads SSE frames from a response body with eventsource-parser 3, as the Arkor SDK does:
 * a frame is delivered only if it has at least one `data:` line; comments and `retry:` are
 * ignored; a trailing frame not terminated by a blank line before EOF is dropped.
 *
 * Frames are produced lazily: the body is read only while the consumer asks for the next frame,
 * so the consumer's pace is the back-pressure. Stopping early (`return()`, `break`) or an error
 * cancels the body, releasing the connection.
 */
export async function* readSseFrames(
  body: ReadableStream<Uint8Array>,
  options: ReadSseFramesOptions = {},
): AsyncGenerator<SseFrame, void, undefined> {
  const queue: SseFrame[] = [];
  const parser = createParser({
    onEvent: (message) => {
      const frame: SseFrame = { data: message.data };
      if (message.id !== undefined && message.id !== '') frame.id = message.id;
      if (message.event !== undefined) frame.event = message.event;
      queue.push(frame);
    },
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let finished = false;
  let lastChar = '';
  const feed = (text: string): void => {
    if (text === '') return;
    lastChar = text[text.length - 1] ?? '';
    parser.feed(text);
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      options.onBytes?.();
      feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) yield queue.shift() as SseFrame;
    }
    finished = true;
    feed(decoder.decode());
    // The parser defers a final bare `\r` (it might be half of `\r\n`); at EOF it is a line end.
    if (lastChar === '\r') parser.feed('\n');
    while (queue.length > 0) yield queue.shift() as SseFrame;
  } finally {
    if (!finished) {
      // Stopped early or failed: cancel so the underlying socket is released, not leaked.
      reader.cancel().catch(() => undefined);
    }
    reader.releaseLock();
  }
}
