/** Longest line accepted from a stream: a Workflow with its node statuses can be large, not unbounded. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Parses a newline-delimited JSON body, as grpc-gateway streams server-streaming calls.
 * Blank lines are skipped; a line that is not JSON throws. Ends quietly when `signal` aborts.
 */
export async function* readJsonLines(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  // Node's fetch does not always error the body on abort (it holds the Response weakly; once that is
  // collected the abort never reaches the body), so cancel the read here.
  const cancel = () => void reader.cancel(signal?.reason).catch(() => undefined);
  signal?.addEventListener('abort', cancel, { once: true });
  if (signal?.aborted) cancel();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) return;
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) yield JSON.parse(line);
      }
      if (buffer.length > MAX_LINE_BYTES) throw new Error(`a streamed line is longer than ${MAX_LINE_BYTES} bytes`);
      if (done) break;
    }
    if (buffer.trim()) yield JSON.parse(buffer);
  } finally {
    signal?.removeEventListener('abort', cancel);
    // Releases the connection when the consumer stops early (break, return, abort).
    await reader.cancel().catch(() => undefined);
  }
}
