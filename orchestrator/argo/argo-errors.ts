import {
  ConflictError,
  InternalError,
  InvalidInputError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
  describeError,
} from '../../core/index.ts';
import type { ArchipelError } from '../../core/index.ts';

/** What the Argo server answered, kept as the `cause` of the Archipel error it became. */
export class ArgoApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, message: string) {
    super(`Argo server answered ${status}: ${message}`);
    this.name = 'ArgoApiError';
    this.status = status;
    this.body = body;
  }
}

/**
 * Maps an error answer (a `grpc.gateway.runtime.Error` body, or a `StreamError` inside a stream) to the
 * taxonomy. The HTTP status decides, as grpc-gateway derives it from the gRPC code.
 */
export function translateArgoError(operation: string, status: number, body: unknown): ArchipelError {
  const serverMessage = messageOf(body) ?? `HTTP ${status}`;
  const cause = new ArgoApiError(status, body, serverMessage);
  const message = `${operation}: ${serverMessage}`;
  const details = { status, ...(grpcCodeOf(body) === undefined ? {} : { grpcCode: grpcCodeOf(body) }) };
  // Argo answers 500 (codes.Internal) to stopping a finished Workflow: a conflict with its state, not an outage.
  if (serverMessage.includes('cannot shutdown a completed workflow')) return new ConflictError(message, { cause, details });
  switch (status) {
    case 400:
    case 422:
      return new InvalidInputError(message, [], { cause, details });
    case 401:
      return new NotAuthenticatedError(message, { cause, details });
    case 403:
      return new NotAllowedError(message, { cause, details });
    case 404:
      return new NotFoundError(message, { cause, details });
    case 409:
      return new ConflictError(message, { cause, details });
    case 501:
      return new NotImplementedError(message, { cause, details });
  }
  if (status === 429 || status >= 500) return new UnavailableError(message, { cause, details });
  return new InternalError(message, { cause, details });
}

/** The request never got an answer: connection refused, reset, DNS, TLS. */
export function argoUnreachable(operation: string, baseUrl: string, error: unknown): UnavailableError {
  return new UnavailableError(`${operation}: the Argo server at ${baseUrl} is unreachable (${describeError(error)})`, { cause: error });
}

export function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const { message, error } = body as { message?: unknown; error?: unknown };
  if (typeof message === 'string' && message) return message;
  return typeof error === 'string' && error ? error : undefined;
}

function grpcCodeOf(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { code, grpc_code: grpcCode } = body as { code?: unknown; grpc_code?: unknown };
  if (typeof code === 'number') return code;
  return typeof grpcCode === 'number' ? grpcCode : undefined;
}
