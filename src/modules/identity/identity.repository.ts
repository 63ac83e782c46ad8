import { and, desc, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { identityProviders } from '../../db/schema/index.js';

export type IdentityProviderRow = typeof identityProviders.$inferSelect;

export function createIdentityRepository(db: Queryable) {
  return {
    async insertProvider(
      row: typeof identityProviders.$inferInsert,
      tx: Queryable = db,
    ): Promise<IdentityProviderRow> {
      const [inserted] = await tx.insert(identityProviders).values(row).returning();
      return inserted!;
    },

    /**
     * Every tenant's providers with this issuer. Spans tenants on purpose: a token names its
     * issuer and audience, not its tenant, and (issuer, audience) is unique across tenants.
     */
    async findProvidersByIssuerAnyTenant(issuer: string, tx: Queryable = db): Promise<IdentityProviderRow[]> {
      return tx.select().from(identityProviders).where(eq(identityProviders.issuer, issuer));
    },

    async findProvider(
      tenantId: string,
      id: string,
      tx: Queryable = db,
    ): Promise<IdentityProviderRow | undefined> {
      const [row] = await tx
        .select()
        .from(identityProviders)
        .where(and(eq(identityProviders.tenantId, tenantId), eq(identityProviders.id, id)));
      return row;
    },

    async listProviders(tenantId: string, tx: Queryable = db): Promise<IdentityProviderRow[]> {
      return tx
        .select()
        .from(identityProviders)
        .where(eq(identityProviders.tenantId, tenantId))
        .orderBy(desc(identityProviders.createdAt), desc(identityProviders.id));
    },

    async deleteProvider(
      tenantId: string,
      id: string,
      tx: Queryable = db,
    ): Promise<IdentityProviderRow | undefined> {
      const [row] = await tx
        .delete(identityProviders)
        .where(and(eq(identityProviders.tenantId, tenantId), eq(identityProviders.id, id)))
        .returning();
      return row;
    },
  };
}

export type IdentityRepository = ReturnType<typeof createIdentityRepository>;
