/**
 * Migration timeline_hash_chain chains the entries a database already holds: each complaint's in
 * id order, a tenant at a time, as the trigger chains new ones, so a complaint written before and
 * after the migration verifies as one chain.
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createTimelineIntegrityRepository } from '../src/modules/timeline-integrity/timeline-integrity.repository.js';
import { type DatabaseBeforeMigration, databaseBefore } from './migrated-database.js';

let database: DatabaseBeforeMigration;
let client: pg.Client;
let app: Database | undefined;

beforeAll(async () => {
  database = await databaseBefore('hash_chain', '_timeline_hash_chain');
  ({ client } = database);
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

async function seedComplaint(tenantId: string, reference: string): Promise<string> {
  const id = randomUUID();
  await client.query(
    `insert into complaints (id, tenant_id, reference, status, channel, category, subject, description,
       customer_name, received_at, received_by)
     values ($1, $2, $3, 'received', 'web', 'billing', '宽带故障', '网络中断', '王芳', now(), 'seed')`,
    [id, tenantId, reference],
  );
  return id;
}

const addEntry = (tenantId: string, complaintId: string, type: string, data: unknown) =>
  client.query(
    `insert into complaint_timeline (tenant_id, complaint_id, type, actor_type, actor_name, data)
     values ($1, $2, $3, 'system', 'Redress', $4)`,
    [tenantId, complaintId, type, JSON.stringify(data)],
  );

describe('migration timeline_hash_chain', () => {
  it('chains every complaint’s stored entries in id order, as the trigger chains new ones', async () => {
    const complaints: Array<{ tenantId: string; id: string }> = [];
    for (const name of ['A', 'B']) {
      const tenantId = randomUUID();
      await client.query('insert into tenants (id, name) values ($1, $2)', [tenantId, name]);
      for (const n of [1, 2]) complaints.push({ tenantId, id: await seedComplaint(tenantId, `C-00000${n}`) });
    }
    // Entries of different complaints interleaved, as a busy tenant writes them.
    for (let round = 0; round < 3; round += 1) {
      for (const { tenantId, id } of complaints)
        await addEntry(tenantId, id, 'test.note', { round, note: '备注' });
    }
    await addEntry(complaints[0]!.tenantId, complaints[0]!.id, 'test.empty', null);

    await runMigrations(database.url);

    const { rows } = await client.query(
      `select tenant_id, complaint_id, id, entry_hash,
         timeline_entry_content(tenant_id, complaint_id, id, occurred_at, type, actor_type::text, actor_id,
           actor_name, actor_on_behalf_of, actor_subject, changes, data, subject_id) as content
       from complaint_timeline order by complaint_id, id`,
    );
    expect(rows).toHaveLength(13);
    // The rule, recomputed outside the database: sha256(link before ‖ content), 32 zero bytes first.
    let previous = { complaint: '', hash: Buffer.alloc(32) };
    for (const row of rows) {
      const before = previous.complaint === row.complaint_id ? previous.hash : Buffer.alloc(32);
      const expected = createHash('sha256')
        .update(Buffer.concat([before, row.content]))
        .digest();
      expect(row.entry_hash.toString('hex')).toBe(expected.toString('hex'));
      previous = { complaint: row.complaint_id, hash: row.entry_hash };
    }
    const first = rows[0]!;
    expect(JSON.parse(first.content.toString('utf8'))[0]).toBe('redress.timeline.v1');

    // A new entry after the migration continues the same chain.
    app = createDatabase({
      url: database.url,
      poolMax: 2,
      applicationName: 'test',
      connectionTimeoutMs: 5_000,
    });
    const repository = createTimelineIntegrityRepository(app.db);
    const { tenantId, id } = complaints[0]!;
    await addEntry(tenantId, id, 'test.after', { after: true });
    const check = await repository.checkChain(tenantId, id);
    expect(check).toMatchObject({ entries: 5, firstMismatch: null });
    // The append-only trigger is on again.
    const { rows: enabled } = await client.query(
      `select tgenabled from pg_trigger where tgname = 'complaint_timeline_append_only'`,
    );
    expect(enabled[0].tgenabled).toBe('O');
  });
});
