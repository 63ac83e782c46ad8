import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { apiKeys, demoTenantKeys, tenants } from '../../db/schema/index.js';

export type TenantRow = typeof tenants.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export function createTenancyRepository(db: Queryable) {
  return {
    async insertTenant(tenant: { id: string; name: string }, tx: Queryable = db): Promise<TenantRow> {
      const [row] = await tx.insert(tenants).values(tenant).returning();
      return row!;
    },

    async findTenantById(tenantId: string, tx: Queryable = db): Promise<TenantRow | undefined> {
      const [row] = await tx.select().from(tenants).where(eq(tenants.id, tenantId));
      return row;
    },

    async findTenantByName(name: string, tx: Queryable = db): Promise<TenantRow | undefined> {
      const [row] = await tx.select().from(tenants).where(eq(tenants.name, name)).limit(1);
      return row;
    },

    async insertApiKey(key: typeof apiKeys.$inferInsert, tx: Queryable = db): Promise<ApiKeyRow> {
      const [row] = await tx.insert(apiKeys).values(key).returning();
      return row!;
    },

    /** Looks a key up by its hash across tenants: the key itself says which tenant it belongs to. */
    async findApiKeyByHash(secretHash: string, tx: Queryable = db): Promise<ApiKeyRow | undefined> {
      const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.secretHash, secretHash));
      return row;
    },

    async findApiKey(tenantId: string, keyId: string, tx: Queryable = db): Promise<ApiKeyRow | undefined> {
      const [row] = await tx
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId)));
      return row;
    },

    /** Operator look-up for the admin CLI, which acts across tenants. */
    async findApiKeyByIdAnyTenant(keyId: string, tx: Queryable = db): Promise<ApiKeyRow | undefined> {
      const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.id, keyId));
      return row;
    },

    async findApiKeyByPrefix(prefix: string, tx: Queryable = db): Promise<ApiKeyRow | undefined> {
      const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.prefix, prefix));
      return row;
    },

    async listApiKeys(tenantId: string, tx: Queryable = db): Promise<ApiKeyRow[]> {
      return tx
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.tenantId, tenantId))
        .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
    },

    /** Marks a key revoked; revoking twice keeps the first revocation time. */
    async revokeApiKey(
      tenantId: string,
      keyId: string,
      at: Date,
      tx: Queryable = db,
    ): Promise<ApiKeyRow | undefined> {
      const [revoked] = await tx
        .update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
        .returning();
      return revoked ?? (await this.findApiKey(tenantId, keyId, tx));
    },

    /** Waits for any other `demo` run to finish, so two never make two Demo tenants. */
    async lockDemoTenant(tx: Queryable): Promise<void> {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('redress:demo-tenant', 0))`);
    },

    /** The Demo tenant's kept key with the key's row, or undefined when none is kept. */
    async findDemoKey(
      tenantId: string,
      tx: Queryable = db,
    ): Promise<{ plaintext: string; apiKey: ApiKeyRow } | undefined> {
      const [row] = await tx
        .select({ plaintext: demoTenantKeys.apiKey, apiKey: apiKeys })
        .from(demoTenantKeys)
        .innerJoin(apiKeys, eq(apiKeys.id, demoTenantKeys.apiKeyId))
        .where(eq(demoTenantKeys.tenantId, tenantId));
      return row;
    },

    async keepDemoKey(tenantId: string, apiKeyId: string, plaintext: string, tx: Queryable = db) {
      await tx
        .insert(demoTenantKeys)
        .values({ tenantId, apiKeyId, apiKey: plaintext })
        .onConflictDoUpdate({ target: demoTenantKeys.tenantId, set: { apiKeyId, apiKey: plaintext } });
    },

    async touchApiKey(keyId: string, at: Date, tx: Queryable = db): Promise<void> {
      await tx.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, keyId));
    },
  };
}

export type TenancyRepository = ReturnType<typeof createTenancyRepository>;
