import { ConflictError, InternalError, InvalidInputError, UnavailableError, isArchipelError } from '../../core/index.ts';

/** A serialization failure or deadlock: the transaction lost a race, and running it again may succeed. */
export class TransactionConflictError extends ConflictError {
  override readonly retryable = true;
}

/** The fields PostgreSQL errors carry (node-postgres and PGlite alike), and Node's system error code. */
interface DriverError {
  code?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
}

const CONSTRAINT_VIOLATIONS = new Set(['23505', '23503', '23514', '23P01']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// node-postgres reports a dropped, closed or timed-out connection as a bare Error without a code.
const PG_CONNECTION_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/;

/**
 * Turns a driver error into the core taxonomy, keeping the original as `cause`. SQLSTATEs: constraint
 * violations and lost races are conflicts, connection problems and an overloaded or stopping server make
 * the database unavailable, data exceptions (class 22) are invalid input. Anything else is a bug or an
 * unexpected state: wrapped with its SQLSTATE so that no vendor error type leaves the adapter.
 */
export function translateError(error: unknown): Error {
  if (isArchipelError(error)) return error;
  const fields: DriverError = typeof error === 'object' && error !== null ? error : {};
  const code = typeof fields.code === 'string' ? fields.code : '';
  const message = error instanceof Error ? error.message : String(error);
  const details: Record<string, unknown> = {};
  if (code) details.sqlState = code;
  for (const key of ['constraint', 'table', 'column'] as const) {
    if (typeof fields[key] === 'string') details[key] = fields[key];
  }
  const options = { cause: error, details };

  if (CONSTRAINT_VIOLATIONS.has(code)) return new ConflictError(message, options);
  if (code === '40001' || code === '40P01') return new TransactionConflictError(message, options);
  if (
    NETWORK_CODES.has(code) ||
    /^(08|53)/.test(code) ||
    /^57P0[123]$/.test(code) ||
    (!code && PG_CONNECTION_MESSAGE.test(message))
  ) {
    return new UnavailableError(`database unavailable: ${message}`, options);
  }
  if (code.startsWith('22')) {
    const issues = typeof fields.column === 'string' ? [{ path: fields.column, message }] : [];
    return new InvalidInputError(message, issues, options);
  }
  return new InternalError(`database query failed${code ? ` (${code})` : ''}: ${message}`, { cause: error });
}
