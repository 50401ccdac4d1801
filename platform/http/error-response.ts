import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isArchipelError, type ErrorKind } from '../../core/index.ts';

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

const STATUS_BY_KIND: Record<ErrorKind, ContentfulStatusCode> = {
  'invalid-input': 400,
  'not-authenticated': 401,
  'not-allowed': 403,
  'not-found': 404,
  conflict: 409,
  'payload-too-large': 413,
  'too-many-requests': 429,
  internal: 500,
  'not-implemented': 501,
  unavailable: 503,
};

const DATABASE_MESSAGES: Partial<Record<ErrorKind, string>> = {
  'invalid-input': 'a value of the request cannot be stored',
  conflict: 'the request conflicts with what is stored (it may exist already, or be in use)',
  unavailable: 'the database is unavailable: try again later',
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid-input',
  401: 'not-authenticated',
  403: 'not-allowed',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/**
 * The one mapping from a thrown value to an HTTP status and the `{ error: { code, message, details } }`
 * body. Anything not from the taxonomy is an internal error whose message is not shown to the caller.
 */
export function errorResponse(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (isArchipelError(error) && typeof error.details.sqlState === 'string') {
    // A database error that no service turned into its own: its message, SQLSTATE and the names of
    // tables and constraints are the database's internals, not the caller's business.
    const status = STATUS_BY_KIND[error.kind];
    return { status, body: { error: { code: error.kind, message: DATABASE_MESSAGES[error.kind] ?? 'internal server error', details: {} } } };
  }
  if (isArchipelError(error)) {
    return {
      status: STATUS_BY_KIND[error.kind],
      body: { error: { code: error.kind, message: error.message, details: error.details } },
    };
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'invalid-input');
    return { status, body: { error: { code, message: error.message || 'request rejected', details: {} } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal server error', details: {} } } };
}
