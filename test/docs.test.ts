import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../src/config/env.js';
import { EVENT_TYPES } from '../src/modules/events/event-types.js';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');

/** The README is the integrator's first reference: what it lists must match what the code has. */
describe('README', () => {
  it('documents every event type Redress emits', () => {
    const missing = EVENT_TYPES.filter((type) => !readme.includes(`| \`${type}\` |`));
    expect(missing).toEqual([]);
  });

  it('sets Redress up in exactly two commands, and says how to show the Demo key again', () => {
    const setUp = readme.slice(
      readme.indexOf('## Set up'),
      readme.indexOf('\n## ', readme.indexOf('## Set up') + 1),
    );
    const commands = /```sh\n([\s\S]*?)```/.exec(setUp)?.[1]?.trim().split('\n');
    expect(commands).toEqual(['docker compose up --build -d', 'npm ci && npm test']);
    expect(setUp).toContain('docker compose exec api node dist/src/cli.js demo --show');
  });

  it('documents every environment variable in the configuration table', () => {
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });
});
