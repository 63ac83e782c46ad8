import { announceChange, type InvalidatedCache } from '../../db/change-notifications.js';
import type { Db, Queryable } from '../../db/client.js';
import { sqlState } from '../../db/sql-errors.js';
import type { Clock } from '../../lib/clock.js';
import { PreconditionFailedError, PreconditionRequiredError, ValidationError } from '../../lib/errors.js';
import { etagForVersion, ifMatchSatisfied } from '../../lib/etag.js';
import type { SettingsRepository } from './settings.repository.js';
import { type WorkflowSettings, workflowSettingsSchema } from './settings.schemas.js';

export interface VersionedSettings {
  settings: WorkflowSettings;
  /** 1 while the tenant runs on the defaults. */
  version: number;
}

/** PostgreSQL's answer to a time zone it does not know (invalid_parameter_value). */
const UNKNOWN_TIME_ZONE = '22023';

/** A tenant's workflow settings, with the seed values for anything it never set. */
export function createSettingsService(deps: {
  db: Db;
  settings: SettingsRepository;
  clock: Clock;
  /**
   * Puts the tenant's report counts on the days of the time zone just saved, in the same
   * transaction (ReportCounts.moveToTimeZone): the reports then never read days of another zone.
   */
  moveReportsToTimeZone: (tenantId: string, timeZone: string, tx: Queryable) => Promise<void>;
  cache?: InvalidatedCache<VersionedSettings>;
}) {
  const { db, settings, clock, cache } = deps;

  async function readStored(tenantId: string, tx: Queryable): Promise<VersionedSettings> {
    const row = await settings.find(tenantId, {}, tx);
    // Parsing fills in fields added since the document was stored.
    return row
      ? { settings: workflowSettingsSchema.parse(row.settings), version: row.version }
      : { settings: workflowSettingsSchema.parse({}), version: 1 };
  }

  /**
   * Recounts the reports in the tenant's new zone, refusing a zone the IANA database in luxon knows
   * and PostgreSQL's does not (one of them older than the other): its days could not be counted.
   */
  async function recountInZone(tenantId: string, timeZone: string, tx: Queryable): Promise<void> {
    try {
      await deps.moveReportsToTimeZone(tenantId, timeZone, tx);
    } catch (error) {
      if (sqlState(error) !== UNKNOWN_TIME_ZONE) throw error;
      throw new ValidationError([
        { field: 'body.timeZone', message: `'${timeZone}' is not a time zone the database knows` },
      ]);
    }
  }

  async function read(tenantId: string, tx: Queryable = db): Promise<VersionedSettings> {
    if (!cache) return readStored(tenantId, tx);
    return (await cache.load(tenantId, () => readStored(tenantId, tx)))!;
  }

  return {
    read,

    /** The settings in force for a tenant. */
    async current(tenantId: string, tx?: Queryable): Promise<WorkflowSettings> {
      return (await read(tenantId, tx)).settings;
    },

    /** Replaces the settings if they are still at the version the caller read (If-Match). */
    async replace(
      tenantId: string,
      ifMatch: string | undefined,
      input: WorkflowSettings,
    ): Promise<VersionedSettings> {
      if (!ifMatch) throw new PreconditionRequiredError('settings document');
      return db.transaction(async (tx) => {
        const row = await settings.find(tenantId, { forUpdate: true }, tx);
        const version = row?.version ?? 1;
        if (!ifMatchSatisfied(ifMatch, etagForVersion(version))) {
          throw new PreconditionFailedError('Workflow settings', tenantId, etagForVersion(version));
        }
        await announceChange({ kind: 'settings', tenantId }, tx);
        cache?.delete(tenantId);
        const saved = await settings.save(tenantId, input, clock.now(), version, tx);
        if (!saved) {
          // Another first save committed while this one ran (with no row, there was nothing to lock).
          const current = await settings.find(tenantId, {}, tx);
          throw new PreconditionFailedError(
            'Workflow settings',
            tenantId,
            etagForVersion(current?.version ?? 1),
          );
        }
        const settingsSaved = workflowSettingsSchema.parse(saved.settings);
        const zoneBefore = workflowSettingsSchema.parse(row?.settings ?? {}).timeZone;
        if (settingsSaved.timeZone !== zoneBefore) {
          await recountInZone(tenantId, settingsSaved.timeZone, tx);
        }
        return { settings: settingsSaved, version: saved.version };
      });
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
