import { parseArgs } from 'node:util';
import { ConfigError, loadEnv } from './config/env.js';
import { createDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { systemClock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import { SCOPES, type Scope } from './modules/tenancy/scopes.js';
import { createServices } from './services.js';

const USAGE = `Usage: npm run cli -- <command> [options]

  migrate                                   apply pending database migrations
  tenant create --name <name>               create a tenant and its first admin API key
  apikey create --tenant <id> --name <name> --scopes <a,b> [--expires-at <iso>]
  apikey revoke --id <key id or rdk_ prefix>
  demo                                      create the "Demo" tenant once and print its key

Each command prints one line of JSON. Scopes: ${SCOPES.join(', ')}.`;

class UsageError extends Error {}

function option(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value.trim();
}

function parseScopes(raw: string): Scope[] {
  const scopes = raw.split(',').map((scope) => scope.trim());
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0)
    throw new UsageError(`unknown scope '${unknown[0]}'; expected ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

async function run(argv: string[]): Promise<unknown> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      id: { type: 'string' },
      'expires-at': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals.join(' ');
  if (values.help || command === '') throw new UsageError('');

  const env = loadEnv();
  if (command === 'migrate') {
    await runMigrations(env.DATABASE_URL);
    return { migrated: true };
  }

  const database = createDatabase({ url: env.DATABASE_URL, poolMax: 2, applicationName: 'redress-cli' });
  try {
    // The CLI arms no jobs: it only manages tenants and keys.
    const { tenancy } = createServices({ db: database.db, clock: systemClock, scheduler: null });
    switch (command) {
      case 'tenant create': {
        const { tenant, apiKey, plaintextKey } = await tenancy.createTenant(option(values, 'name'));
        return {
          id: tenant.id,
          name: tenant.name,
          apiKey: plaintextKey,
          apiKeyId: apiKey.id,
          scopes: apiKey.scopes,
        };
      }
      case 'apikey create': {
        const expiresAtRaw = values['expires-at'];
        const expiresAt = expiresAtRaw ? new Date(expiresAtRaw) : null;
        if (expiresAt && Number.isNaN(expiresAt.getTime()))
          throw new UsageError('--expires-at must be an ISO date-time');
        const { apiKey, plaintextKey } = await tenancy.createApiKey(option(values, 'tenant'), {
          name: option(values, 'name'),
          scopes: parseScopes(option(values, 'scopes')),
          expiresAt,
        });
        return {
          id: apiKey.id,
          tenantId: apiKey.tenantId,
          name: apiKey.name,
          scopes: apiKey.scopes,
          apiKey: plaintextKey,
        };
      }
      case 'apikey revoke': {
        const revoked = await tenancy.revokeApiKeyAnyTenant(option(values, 'id'));
        return { id: revoked.id, prefix: revoked.prefix, revokedAt: revoked.revokedAt?.toISOString() };
      }
      case 'demo': {
        const existing = await tenancy.findTenantByName('Demo');
        if (existing) {
          return {
            id: existing.id,
            name: existing.name,
            note: 'The Demo tenant already exists; its first key was printed when it was created. Make another with `apikey create`.',
          };
        }
        const { tenant, plaintextKey } = await tenancy.createTenant('Demo');
        return { id: tenant.id, name: tenant.name, apiKey: plaintextKey };
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } finally {
    await database.close();
  }
}

run(process.argv.slice(2))
  .then((result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  })
  .catch((error) => {
    if (error instanceof UsageError) {
      if (error.message) process.stderr.write(`${error.message}\n\n`);
      process.stderr.write(`${USAGE}\n`);
      process.exit(2);
    }
    const message =
      error instanceof ConfigError || error instanceof AppError
        ? error.message
        : `unexpected error: ${error?.stack ?? error}`;
    process.stderr.write(
      `${JSON.stringify({ error: message, code: error instanceof AppError ? error.code : undefined })}\n`,
    );
    process.exit(1);
  });
