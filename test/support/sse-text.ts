/**
 * Test helper: reads an SSE response body as raw text and splits it into frames exactly as
 * written (blank-line terminated), so tests can assert on the wire framing itself.
 */

/** One blank-line-terminated frame. */
export interface SseFrame {
  /** The frame's lines, verbatim (without the terminating blank line). */
  lines: string[];
  id: string | undefined;
  event: string | undefined;
  /** `data:` values joined with `\n`; undefined when the frame has no `data:` line. */
  data: string | undefined;
}

function fieldValue(line: string, name: string): string | undefined {
  if (line === name) return '';
  if (!line.startsWith(`${name}:`)) return undefined;
  const value = line.slice(name.length + 1);
  return value.startsWith(' ') ? value.slice(1) : value;
}

/** Splits `text` into complete frames; `rest` is an unterminated tail. */
export function parseSseText(text: string): { frames: SseFrame[]; rest: string } {
  const parts = text.split('\n\n');
  const rest = parts.pop() ?? '';
  const frames = parts.map((block) => {
    const lines = block.split('\n');
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of lines) {
      id = fieldValue(line, 'id') ?? id;
      event = fieldValue(line, 'event') ?? event;
      const d = fieldValue(line, 'data');
      if (d !== undefined) data.push(d);
    }
    return { lines, id, event, data: data.length > 0 ? data.join('\n') : undefined };
  });
  return { frames, rest };
}

/** What `readSse` saw. */
export interface SseRead {
  frames: SseFrame[];
  text: string;
  /** The body ended (cleanly) before `until` was satisfied or after it. */
  ended: boolean;
  /** Set when reading the body failed (e.g. the server reset the connection). */
  error: unknown;
}

/**
 * Reads `res.body` until `until` returns true for the frames so far, the body ends, reading
 * fails, or `timeoutMs` passes (then it throws, so a hanging test fails instead of hanging).
 * When it stops early because of `until`, the body is cancelled.
 */
export async function readSse(
  res: Response,
  options: { until?: (frames: SseFrame[]) => boolean; timeoutMs?: number } = {},
): Promise<SseRead> {
  const body = res.body;
  if (!body) return { frames: [], text: '', ended: true, error: undefined };
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let frames: SseFrame[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => undefined);
  }, options.timeoutMs ?? 5000);
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (timedOut) throw new Error(`readSse timed out; got ${frames.length} frames:\n${text}`);
        return { frames, text, ended: false, error };
      }
      if (chunk.done) {
        if (timedOut) throw new Error(`readSse timed out; got ${frames.length} frames:\n${text}`);
        text += decoder.decode();
        return { frames: parseSseText(text).frames, text, ended: true, error: undefined };
      }
      text += decoder.decode(chunk.value, { stream: true });
      frames = parseSseText(text).frames;
      if (options.until?.(frames)) {
        await reader.cancel().catch(() => undefined);
        return { frames, text, ended: false, error: undefined };
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Data frames only (frames that carry an id). */
export function dataFrames(frames: SseFrame[]): SseFrame[] {
  return frames.filter((f) => f.id !== undefined);
}
