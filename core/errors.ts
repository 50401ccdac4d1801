/**
 * The error taxonomy. Every failure that crosses a module boundary is one of these kinds; adapters
 * translate vendor errors into them (keeping the original as `cause`) and the HTTP error handler maps
 * each kind to one status. `retryable` tells callers whether trying again may succeed.
 */
export type ErrorKind =
  | 'invalid-input'
  | 'not-authenticated'
  | 'not-allowed'
  | 'not-found'
  | 'conflict'
  | 'unavailable'
  | 'not-implemented'
  | 'payload-too-large'
  | 'too-many-requests'
  | 'internal';

export interface ErrorOptions {
  cause?: unknown;
  /** Structured, caller-safe details (which field, which limit, ...). */
  details?: Record<string, unknown>;
}

export abstract class ArchipelError extends Error {
  abstract readonly kind: ErrorKind;
  readonly retryable: boolean = false;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

/** One problem with a piece of input: where it is and what is wrong. */
export interface InputIssue {
  /** A JSON path (`members.0.role`), a CLI option (`--http-port`) or a config key. */
  path: string;
  message: string;
  /** Source file and 1-based line (and column), when the input came from a file. */
  file?: string;
  line?: number;
  column?: number;
}

export class InvalidInputError extends ArchipelError {
  readonly kind = 'invalid-input' as const;
  readonly issues: InputIssue[];
  constructor(message: string, issues: InputIssue[] = [], options: ErrorOptions = {}) {
    super(message, { ...options, details: { ...options.details, ...(issues.length ? { issues } : {}) } });
    this.issues = issues;
  }
}

export class NotAuthenticatedError extends ArchipelError {
  readonly kind = 'not-authenticated' as const;
}

export class NotAllowedError extends ArchipelError {
  readonly kind = 'not-allowed' as const;
}

export class NotFoundError extends ArchipelError {
  readonly kind = 'not-found' as const;
}

export class ConflictError extends ArchipelError {
  readonly kind = 'conflict' as const;
}

export class PayloadTooLargeError extends ArchipelError {
  readonly kind = 'payload-too-large' as const;
}

/**
 * More requests than a limit allows (login attempts from one address, ...), or more than the node takes
 * at once: retry after `retryAfterSeconds`, which the HTTP answer also sends as `Retry-After`.
 */
export class TooManyRequestsError extends ArchipelError {
  readonly kind = 'too-many-requests' as const;
  override readonly retryable = true;
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, options: ErrorOptions & { retryAfterSeconds?: number } = {}) {
    const { retryAfterSeconds, ...rest } = options;
    super(message, { ...rest, details: { ...rest.details, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A failure that is nobody's input and will not pass by retrying: a bug or a misconfiguration. */
export class InternalError extends ArchipelError {
  readonly kind = 'internal' as const;
}

export class UnavailableError extends ArchipelError {
  readonly kind = 'unavailable' as const;
  override readonly retryable = true;
}

export class NotImplementedError extends ArchipelError {
  readonly kind = 'not-implemented' as const;
}

export function isArchipelError(error: unknown): error is ArchipelError {
  return error instanceof ArchipelError;
}

/** A readable one-line description of any thrown value, following `cause` chains. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      if (current.message && !parts.includes(current.message)) parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ') || 'unknown error';
}
