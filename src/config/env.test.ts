import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from './env.js';

const required = { DATABASE_URL: 'postgres://u@h:5432/d', REDIS_URL: 'redis://h:6379' };

describe('loadEnv', () => {
  it('applies defaults', () => {
    const env = loadEnv(required);
    expect(env).toMatchObject({ PORT: 3000, HOST: '0.0.0.0', LOG_LEVEL: 'info', IDEMPOTENCY_TTL_HOURS: 48 });
  });

  it.each([
    [{}, 'DATABASE_URL'],
    [{ ...required, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...required, REDIS_URL: undefined }, 'REDIS_URL'],
    [{ ...required, PORT: '99999' }, 'PORT'],
    [{ ...required, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ...required, IDEMPOTENCY_TTL_HOURS: '1' }, 'IDEMPOTENCY_TTL_HOURS'],
    [{ ...required, DOCS_ENABLED: 'maybe' }, 'DOCS_ENABLED'],
  ])('names the bad variable (%o)', (source, name) => {
    expect(() => loadEnv(source as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadEnv(source as NodeJS.ProcessEnv)).toThrow(name);
  });

  it('treats empty strings as unset', () => {
    expect(loadEnv({ ...required, PORT: '' }).PORT).toBe(3000);
  });
});
