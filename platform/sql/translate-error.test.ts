import { describe, expect, it } from 'vitest';
import { ConflictError, InternalError, InvalidInputError, NotFoundError, UnavailableError } from '../../core/index.ts';
import { TransactionConflictError, translateError } from './translate-error.ts';

// Driver errors as node-postgres and PGlite shape them: a message plus PostgreSQL's fields.
const pgError = (code: string, fields: Record<string, string> = {}) =>
  Object.assign(new Error(`pg says ${code}`), { code, ...fields });

describe('translateError', () => {
  it('makes constraint violations conflicts, with the constraint and the original error', () => {
    for (const code of ['23505', '23503', '23514', '23P01']) {
      const original = pgError(code, { constraint: 'users_name_key', table: 'users' });
      const error = translateError(original);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({
        retryable: false,
        message: `pg says ${code}`,
        details: { sqlState: code, constraint: 'users_name_key', table: 'users' },
        cause: original,
      });
    }
  });

  it('makes serialization failures and deadlocks retryable conflicts', () => {
    for (const code of ['40001', '40P01']) {
      const error = translateError(pgError(code));
      expect(error).toBeInstanceOf(TransactionConflictError);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).retryable).toBe(true);
    }
  });

  it('makes connection problems and a stopping or overloaded server unavailable', () => {
    const cases = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      pgError('57P01'), // admin shutdown
      pgError('08006'), // connection failure
      pgError('53300'), // too many connections
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ];
    for (const original of cases) {
      const error = translateError(original);
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error.cause).toBe(original);
    }
  });

  it('makes data exceptions invalid input', () => {
    expect(translateError(pgError('22P02'))).toBeInstanceOf(InvalidInputError);
    expect(translateError(pgError('22001', { column: 'name' }))).toMatchObject({
      issues: [{ path: 'name', message: 'pg says 22001' }],
    });
  });

  it('wraps anything else with its SQLSTATE, keeping the original', () => {
    const original = pgError('42601');
    const error = translateError(original);
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toBe('database query failed (42601): pg says 42601');
    expect(error.cause).toBe(original);
    expect(translateError('odd').message).toBe('database query failed: odd');
  });

  it('leaves errors of the taxonomy alone', () => {
    const error = new NotFoundError('gone');
    expect(translateError(error)).toBe(error);
  });
});
