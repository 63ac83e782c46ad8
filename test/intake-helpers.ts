import { expect } from 'vitest';
import { call, complaintBody, type TestApp } from './harness.js';

// Event payloads and API answers are free JSON whose nested members the assertions read.
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Json = Record<string, any>;

/** Reads and writes complaints of one tenant through the API, as the intake-rule specs need. */
export function complaintClient(t: TestApp, key: string) {
  const client = {
    async create(overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
      const res = await call(t.app, key, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody(overrides),
        headers,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as Json;
    },

    async get(id: string): Promise<Json> {
      const res = await call(t.app, key, { method: 'GET', url: `/v1/complaints/${id}` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    },

    /** A PATCH with the complaint's current ETag. */
    async patch(id: string, json: unknown) {
      const { version } = await client.get(id);
      return call(t.app, key, {
        method: 'PATCH',
        url: `/v1/complaints/${id}`,
        headers: { 'if-match': `"${version}"` },
        json,
      });
    },

    async timeline(id: string): Promise<Json[]> {
      const res = await call(t.app, key, { method: 'GET', url: `/v1/complaints/${id}/timeline?limit=100` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data;
    },

    async deadlines(id: string): Promise<Json[]> {
      const res = await call(t.app, key, { method: 'GET', url: `/v1/complaints/${id}/deadlines` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data;
    },

    async escalations(id: string): Promise<Json[]> {
      const res = await call(t.app, key, { method: 'GET', url: `/v1/complaints/${id}/escalations` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data;
    },

    /** Replaces the tenant's workflow settings (fields left out go back to their seed values). */
    async settings(json: Record<string, unknown>) {
      const res = await call(t.app, key, {
        method: 'PUT',
        url: '/v1/settings/workflow',
        headers: { 'if-match': '*' },
        json,
      });
      expect(res.statusCode, res.body).toBe(200);
    },
  };
  return client;
}

/** The complaint's events in the order they were numbered, straight from the outbox. */
export async function eventsOf(t: TestApp, complaintId: string) {
  const { rows } = await t.database.pool.query(
    'select type, sequence::int as sequence, data from events where complaint_id = $1 order by sequence',
    [complaintId],
  );
  return rows as Array<{ type: string; sequence: number; data: Json }>;
}

/** An instant `days` before now, as the API takes it. */
export const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString();
