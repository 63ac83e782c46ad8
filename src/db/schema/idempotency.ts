import { index, integer, jsonb, pgEnum, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { tenantIdColumn } from './tenancy.js';

export const idempotencyState = pgEnum('idempotency_state', ['in_progress', 'completed']);

/**
 * One row per Idempotency-Key a tenant has used. The first request claims the key
 * (`in_progress`, leased until `locked_until`); its transaction records the resource it
 * created, and its answer is stored once sent, so a retry replays that answer.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: tenantIdColumn(),
    key: text('key').notNull(),
    /** SHA-256 of method, route and canonical body: the same key with another request is refused. */
    requestFingerprint: text('request_fingerprint').notNull(),
    state: idempotencyState('state').notNull().default('in_progress'),
    lockedUntil: instant('locked_until').notNull(),
    /** Set inside the creating transaction, so the outcome is known even if the process dies before answering. */
    resourceId: uuid('resource_id'),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.key] }),
    index('idempotency_keys_expires_idx').on(table.expiresAt),
  ],
);
