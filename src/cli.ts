import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ConfigError, loadEnv } from './config/env.js';
import { createDatabase } from './db/client.js';
import { CitusMissingError, distributeTables } from './db/distribution.js';
import { runMigrations } from './db/migrate.js';
import { systemClock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import { isUuid } from './lib/ids.js';
import { SCOPES, type Scope } from './modules/tenancy/scopes.js';
import { apiKeyNameSchema, tenantNameSchema } from './modules/tenancy/tenancy.schemas.js';
import { createServices } from './services.js';

const USAGE = `Usage: npm run cli -- <command> [options]

  migrate                                   apply pending database migrations
  tenant create --name <name>               create a tenant (name: 1–200 characters) and its first admin API key
  apikey create --tenant <uuid> --name <name> --scopes <a,b> [--expires-at <iso>]
  apikey revoke --id <key id or rdk_ prefix>
  reports recount [--tenant <uuid>]         bring the kept report counts of a tenant, or of all,
                                            to what the deadlines, follow-ups and complaints say
  db distribute                             on Citus: copy the shared tables to every node and
                                            spread the rest by tenant (after migrate; may rerun)
  demo [--show]                             create the "Demo" tenant once and print its key;
                                            --show only prints the key, creating nothing

Each command prints one line of JSON. Scopes: ${SCOPES.join(', ')}.`;

class UsageError extends Error {}

/** A command that could not do what was asked, for a reason the operator can act on. */
class CommandFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function option(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value.trim();
}

/** An option checked against the schema the service and the REST API use. */
function checked(
  values: Record<string, string | boolean | undefined>,
  name: string,
  schema: z.ZodType<string>,
) {
  const parsed = schema.safeParse(option(values, name));
  if (!parsed.success) throw new UsageError(`--${name} ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
  return parsed.data;
}

function tenantId(values: Record<string, string | boolean | undefined>): string {
  const id = option(values, 'tenant');
  if (!isUuid(id)) throw new UsageError(`--tenant must be a tenant id (a UUID), not '${id.slice(0, 80)}'`);
  return id;
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
      show: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals.join(' ');
  if (values.help || command === '') throw new UsageError('');

  const env = loadEnv();
  if (command === 'migrate') {
    const warnings = await runMigrations(env.DATABASE_URL);
    return warnings.length > 0 ? { migrated: true, warnings } : { migrated: true };
  }

  const database = createDatabase({ url: env.DATABASE_URL, poolMax: 2, applicationName: 'redress-cli' });
  try {
    // The CLI arms no jobs: it manages tenants and keys, and recounts what reports keep.
    const { tenancy, repositories } = createServices({
      db: database.db,
      clock: systemClock,
      scheduler: null,
    });
    switch (command) {
      case 'tenant create': {
        const { tenant, apiKey, plaintextKey } = await tenancy.createTenant(
          checked(values, 'name', tenantNameSchema),
        );
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
        const { apiKey, plaintextKey } = await tenancy.createApiKey(tenantId(values), {
          name: checked(values, 'name', apiKeyNameSchema),
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
      case 'reports recount': {
        const tenant = values.tenant === undefined ? null : tenantId(values);
        const corrected = await repositories.reportCounts.recount(tenant);
        return { recounted: tenant ?? 'all', groupsCorrected: corrected };
      }
      case 'db distribute': {
        try {
          return await distributeTables(database.db);
        } catch (error) {
          if (error instanceof CitusMissingError) throw new CommandFailure(error.code, error.message);
          throw error;
        }
      }
      case 'demo': {
        const demo = await tenancy.demoTenant({ create: !values.show });
        if (!demo) {
          throw new CommandFailure(
            'not_found',
            'There is no Demo tenant with a usable key. Run `demo` without --show to make one.',
          );
        }
        return {
          id: demo.tenant.id,
          name: demo.tenant.name,
          apiKey: demo.plaintextKey,
          apiKeyId: demo.apiKey.id,
          created: demo.created,
        };
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } finally {
    await database.close();
  }
}

/**
 * One line for the operator. A failed query says what PostgreSQL said, without the SQL, its
 * parameters or a stack; LOG_LEVEL=debug adds the stack for a bug report.
 */
function describeFailure(error: unknown): { error: string; code?: string; stack?: string } {
  if (error instanceof ConfigError) return { error: error.message };
  if (error instanceof AppError || error instanceof CommandFailure)
    return { error: error.message, code: error.code };
  const cause = (error as { cause?: { message?: string; code?: string } } | null)?.cause;
  const failedQuery = error instanceof Error && 'query' in error;
  const message = failedQuery
    ? (cause?.message ?? 'database query failed')
    : String((error as Error)?.message ?? error);
  const own = (error as { code?: unknown } | null)?.code;
  const code = cause?.code ?? (typeof own === 'string' ? own : undefined);
  const hint = code === '42P01' ? ' (run `npm run migrate` first)' : '';
  const debug = ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
  return {
    error: `unexpected error: ${message}${hint}`,
    ...(code ? { code } : {}),
    // Frames only: a failed query's first line repeats its parameters.
    ...(debug && error instanceof Error
      ? {
          stack: error.stack
            ?.split('\n')
            .filter((line) => line.trimStart().startsWith('at '))
            .join('\n'),
        }
      : {}),
  };
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
    process.stderr.write(`${JSON.stringify(describeFailure(error))}\n`);
    process.exit(1);
  });
