import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { preRefunds, resolutionOptions, resolutions } from '../../db/schema/index.js';

export type ResolutionRow = typeof resolutions.$inferSelect;
export type ResolutionOptionRow = typeof resolutionOptions.$inferSelect;
export type PreRefundRow = typeof preRefunds.$inferSelect;
/** A resolution with its options in the order proposed. */
export type ResolutionWithOptions = ResolutionRow & { options: ResolutionOptionRow[] };

const OPEN_STATUSES: ResolutionRow['status'][] = ['awaiting_approval', 'proposed', 'chosen'];

export function createResolutionsRepository(db: Queryable) {
  async function withOptions(rows: ResolutionRow[], tx: Queryable): Promise<ResolutionWithOptions[]> {
    if (rows.length === 0) return [];
    const options = await tx
      .select()
      .from(resolutionOptions)
      .where(
        inArray(
          resolutionOptions.resolutionId,
          rows.map((row) => row.id),
        ),
      )
      .orderBy(asc(resolutionOptions.position));
    return rows.map((row) => ({
      ...row,
      options: options.filter((option) => option.resolutionId === row.id),
    }));
  }

  return {
    async insert(
      row: typeof resolutions.$inferInsert,
      options: Array<typeof resolutionOptions.$inferInsert>,
      tx: Queryable = db,
    ): Promise<ResolutionWithOptions> {
      const [inserted] = await tx.insert(resolutions).values(row).returning();
      const insertedOptions = await tx.insert(resolutionOptions).values(options).returning();
      return { ...inserted!, options: insertedOptions.sort((a, b) => a.position - b.position) };
    },

    /** A complaint's resolution, locked for the caller's transaction when asked. */
    async find(
      tenantId: string,
      complaintId: string,
      id: string,
      options: { forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<ResolutionWithOptions | undefined> {
      const query = tx
        .select()
        .from(resolutions)
        .where(
          and(
            eq(resolutions.tenantId, tenantId),
            eq(resolutions.complaintId, complaintId),
            eq(resolutions.id, id),
          ),
        );
      const rows = options.forUpdate ? await query.for('update') : await query;
      return (await withOptions(rows, tx))[0];
    },

    /** The proposal still in play for a complaint, if any (at most one: resolutions_one_open_key). */
    async findOpen(
      tenantId: string,
      complaintId: string,
      tx: Queryable = db,
    ): Promise<ResolutionRow | undefined> {
      const [row] = await tx
        .select()
        .from(resolutions)
        .where(
          and(
            eq(resolutions.tenantId, tenantId),
            eq(resolutions.complaintId, complaintId),
            inArray(resolutions.status, OPEN_STATUSES),
          ),
        );
      return row;
    },

    async listForComplaint(tenantId: string, complaintId: string, tx: Queryable = db) {
      const rows = await tx
        .select()
        .from(resolutions)
        .where(and(eq(resolutions.tenantId, tenantId), eq(resolutions.complaintId, complaintId)))
        .orderBy(asc(resolutions.createdAt), asc(resolutions.id));
      return withOptions(rows, tx);
    },

    /**
     * The resolutions of several complaints with their options, in one query (a join), each
     * complaint's in the order of listForComplaint.
     */
    async listForComplaints(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<ResolutionWithOptions[]> {
      if (complaintIds.length === 0) return [];
      const rows = await tx
        .select({ resolution: resolutions, option: resolutionOptions })
        .from(resolutions)
        // Joined by tenant too: the key the two tables share, which Citus joins them on.
        .leftJoin(
          resolutionOptions,
          and(
            eq(resolutionOptions.tenantId, resolutions.tenantId),
            eq(resolutionOptions.resolutionId, resolutions.id),
          ),
        )
        .where(and(eq(resolutions.tenantId, tenantId), inArray(resolutions.complaintId, complaintIds)))
        .orderBy(asc(resolutions.createdAt), asc(resolutions.id), asc(resolutionOptions.position));
      const byId = new Map<string, ResolutionWithOptions>();
      for (const { resolution, option } of rows) {
        let entry = byId.get(resolution.id);
        if (!entry) {
          entry = { ...resolution, options: [] };
          byId.set(resolution.id, entry);
        }
        if (option) entry.options.push(option);
      }
      return [...byId.values()];
    },

    /** Applies changes to a resolution and bumps its version; the caller holds its row lock. */
    async update(
      tenantId: string,
      id: string,
      changes: Partial<typeof resolutions.$inferInsert>,
      at: Date,
      currentVersion: number,
      tx: Queryable = db,
    ): Promise<void> {
      await tx
        .update(resolutions)
        .set({ ...changes, version: currentVersion + 1, updatedAt: at })
        .where(and(eq(resolutions.tenantId, tenantId), eq(resolutions.id, id)));
    },

    async decideOptions(
      tenantId: string,
      ids: string[],
      decision: Pick<ResolutionOptionRow, 'approval' | 'decidedBy' | 'decidedAt' | 'decisionNote'>,
      tx: Queryable = db,
    ): Promise<void> {
      if (ids.length > 0)
        await tx
          .update(resolutionOptions)
          .set(decision)
          .where(and(eq(resolutionOptions.tenantId, tenantId), inArray(resolutionOptions.id, ids)));
    },

    /** The id of a resolution of the complaint whose options await approval, if there is one. */
    async awaitingApproval(
      tenantId: string,
      complaintId: string,
      tx: Queryable = db,
    ): Promise<string | undefined> {
      const [row] = await tx
        .select({ id: resolutions.id })
        .from(resolutions)
        .where(
          and(
            eq(resolutions.tenantId, tenantId),
            eq(resolutions.complaintId, complaintId),
            eq(resolutions.status, 'awaiting_approval'),
          ),
        )
        .limit(1);
      return row?.id;
    },

    async insertPreRefund(row: typeof preRefunds.$inferInsert, tx: Queryable = db): Promise<PreRefundRow> {
      const [inserted] = await tx.insert(preRefunds).values(row).returning();
      return inserted!;
    },

    async findPreRefund(
      tenantId: string,
      complaintId: string,
      id: string,
      options: { forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<PreRefundRow | undefined> {
      const query = tx
        .select()
        .from(preRefunds)
        .where(
          and(
            eq(preRefunds.tenantId, tenantId),
            eq(preRefunds.complaintId, complaintId),
            eq(preRefunds.id, id),
          ),
        );
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    async updatePreRefund(
      tenantId: string,
      id: string,
      changes: Partial<typeof preRefunds.$inferInsert>,
      tx: Queryable = db,
    ) {
      const [row] = await tx
        .update(preRefunds)
        .set(changes)
        .where(and(eq(preRefunds.tenantId, tenantId), eq(preRefunds.id, id)))
        .returning();
      return row!;
    },

    async listPreRefunds(tenantId: string, complaintId: string, tx: Queryable = db): Promise<PreRefundRow[]> {
      return tx
        .select()
        .from(preRefunds)
        .where(and(eq(preRefunds.tenantId, tenantId), eq(preRefunds.complaintId, complaintId)))
        .orderBy(asc(preRefunds.createdAt), asc(preRefunds.id));
    },

    /** The pre-refunds of several complaints in one query, each complaint's in the order of listPreRefunds. */
    async listPreRefundsForComplaints(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<PreRefundRow[]> {
      if (complaintIds.length === 0) return [];
      return tx
        .select()
        .from(preRefunds)
        .where(and(eq(preRefunds.tenantId, tenantId), inArray(preRefunds.complaintId, complaintIds)))
        .orderBy(asc(preRefunds.createdAt), asc(preRefunds.id));
    },
  };
}

export type ResolutionsRepository = ReturnType<typeof createResolutionsRepository>;
