import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { InvalidInputError, PayloadTooLargeError, UnavailableError } from '../core/index.ts';

/**
 * Request/response over a libp2p stream: one length-prefixed JSON message each way, a size limit on
 * what is read, and a deadline on the whole exchange. The same framing serves every Archipel
 * application protocol (`/archipel/<name>/1.0.0`).
 */
export interface JsonExchangeOptions {
  /** Largest message accepted, in bytes. */
  maxBytes: number;
  signal: AbortSignal;
}

function decode(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InvalidInputError('the peer sent a message that is not UTF-8 JSON', [], { cause: error });
  }
}

function encode(message: unknown, maxBytes: number): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(message));
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(`message of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  return bytes;
}

async function readMessage(lp: ReturnType<typeof lpStream>, options: JsonExchangeOptions): Promise<unknown> {
  try {
    const list = await lp.read({ signal: options.signal });
    return decode(list.subarray());
  } catch (error) {
    if ((error as Error).name === 'InvalidDataLengthError') {
      throw new PayloadTooLargeError(`the peer's message exceeds the limit of ${options.maxBytes} bytes`, { cause: error });
    }
    throw error;
  }
}

/** Sends `request` on an open stream and returns the peer's one reply; closes the stream. */
export async function exchangeJson(stream: Stream, request: unknown, options: JsonExchangeOptions): Promise<unknown> {
  const lp = lpStream(stream, { maxDataLength: options.maxBytes });
  try {
    await lp.write(encode(request, options.maxBytes), { signal: options.signal });
    const reply = await readMessage(lp, options);
    await stream.close({ signal: options.signal }).catch(() => stream.abort(new Error('close failed')));
    return reply;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    if (options.signal.aborted) throw new UnavailableError('the peer did not answer in time', { cause: error });
    throw error;
  }
}

/**
 * Serves one request on an incoming stream: reads it, answers with what `respond` returns, closes.
 * Anything that goes wrong aborts the stream (the requester sees a failed exchange) and is rethrown.
 */
export async function serveJson(stream: Stream, respond: (request: unknown) => Promise<unknown>, options: JsonExchangeOptions): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: options.maxBytes });
  try {
    const request = await readMessage(lp, options);
    const reply = await respond(request);
    await lp.write(encode(reply, options.maxBytes), { signal: options.signal });
    await stream.close({ signal: options.signal });
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** Resolves with `work`, or rejects once `signal` aborts even if `work` never notices it. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
