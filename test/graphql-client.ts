import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { expect } from 'vitest';
import { call } from './harness.js';

/** What POST /graphql answered: the HTTP status, `data` and the errors (none: an empty list). */
export interface GraphqlAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  data: any;
  errors: Array<{
    message: string;
    path?: unknown[];
    extensions: { code: string; status: number } & Record<string, unknown>;
  }>;
}

/** POST /graphql through the app, as a client sends it. */
export async function postGraphql(
  app: FastifyInstance,
  key: string | null,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphqlAnswer> {
  const res = await call(app, key, { method: 'POST', url: '/graphql', json: { query, variables }, headers });
  const body = res.json();
  return { status: res.statusCode, data: body.data ?? null, errors: body.errors ?? [] };
}

/** The fields a validation_failed answer names, each once, after checking it is one. */
export function validationFields(answer: GraphqlAnswer): string[] {
  expect(answer.status).toBe(400);
  expect(answer.errors[0]!.extensions).toMatchObject({ code: 'validation_failed', status: 400 });
  return [...new Set((answer.errors[0]!.extensions.errors as Array<{ field: string }>).map((e) => e.field))];
}

export { COMPLAINT_FIELDS } from './complaint-fields.js';

/**
 * Counts the statements the app's pool sends, through the driver's own 'acquire' event: every
 * query, pooled or in a transaction, runs on an acquired client. Results are untouched.
 */
export function countQueries(pool: pg.Pool) {
  const wrapped = new WeakSet<pg.PoolClient>();
  let counting = true;
  const counter = {
    count: 0,
    stop() {
      counting = false;
      pool.off('acquire', onAcquire);
    },
  };
  function onAcquire(client: pg.PoolClient) {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (counting) counter.count += 1;
      return query(...args);
    };
  }
  pool.on('acquire', onAcquire);
  return counter;
}

/**
 * How many GraphQL subscriptions the API process at `baseUrl` counts as listening on its /metrics:
 * each counts once Redis has subscribed it, so what is published after that reaches it.
 */
export async function subscriptionsListening(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).toBe(200);
  const line = (await res.text())
    .split('\n')
    .find((l) => l.startsWith('redress_graphql_subscriptions_listening '));
  return Number(line?.split(' ')[1] ?? 0);
}
