import { describe, expect, it } from 'vitest';
import { statementRolledBack } from './sql-errors.js';

describe('statementRolledBack', () => {
  it('holds for what PostgreSQL reports of a statement it refused', () => {
    for (const code of ['23505', '22P02', '40P01', '40001', '55P03', '42P01', 'P0001', '57014']) {
      expect(statementRolledBack(Object.assign(new Error(code), { code })), code).toBe(true);
    }
  });

  it('holds through the wrapping drizzle adds', () => {
    const driver = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(statementRolledBack(new Error('Failed query', { cause: driver }))).toBe(true);
  });

  it('does not hold for a lost connection, a shutdown or an error with no SQLSTATE', () => {
    for (const code of ['08006', '08003', '57P01', '57P02', '58030', 'XX000', '53300']) {
      expect(statementRolledBack(Object.assign(new Error(code), { code })), code).toBe(false);
    }
    expect(statementRolledBack(new Error('Connection terminated unexpectedly'))).toBe(false);
    // Node's own error codes are not SQLSTATEs.
    expect(statementRolledBack(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
  });
});
