import type { Db } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { toCommunicationView, toComplaintView, toTimelineEntryView } from '../complaints/complaint-views.js';
import type { ComplaintsRepository, TimelineRow } from '../complaints/complaints.repository.js';
import type { DeadlinesRepository } from '../deadlines/deadlines.repository.js';
import { toEventEnvelope } from '../events/event-envelope.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { DataSubject } from './data-subject.js';
import type { DataSubjectExportedEventData } from './data-subject-event.js';
import type { DataSubjectsRepository } from './data-subjects.repository.js';
import { type DataSubjectExport, EXPORT_COMPLAINT_LIMIT } from './data-subjects.schemas.js';

/** Timeline entries read per complaint and round; a complaint with more is read again after them. */
const TIMELINE_PAGE = 1_000;

/**
 * Access exports (DSAR, GDPR art. 15, PIPL art. 45): everything the tenant holds on one data
 * subject, in clear, recorded by a `data_subject.exported` event that names the subject masked.
 */
export function createDataSubjectsService(deps: {
  db: Db;
  repository: DataSubjectsRepository;
  complaints: Pick<ComplaintsRepository, 'findByIds' | 'listTimelines'>;
  deadlines: Pick<DeadlinesRepository, 'nextPendingFor'>;
  events: Pick<EventsRepository, 'appendForTenant'>;
  clock: Clock;
}) {
  const { db, repository, complaints, deadlines, events, clock } = deps;

  /** Every timeline entry of these complaints, oldest first per complaint, in rounds of TIMELINE_PAGE. */
  async function timelinesOf(tenantId: string, ids: string[], tx: Db): Promise<Map<string, TimelineRow[]>> {
    const entries = new Map<string, TimelineRow[]>(ids.map((id) => [id, []]));
    let pending = ids.map((complaintId) => ({ complaintId, afterId: null as number | null }));
    while (pending.length > 0) {
      const found = await complaints.listTimelines(tenantId, pending, TIMELINE_PAGE, tx);
      const next: typeof pending = [];
      pending.forEach((page, index) => {
        const rows = found.filter((entry) => entry.page === index).map((entry) => entry.row);
        const kept = rows.slice(0, TIMELINE_PAGE);
        entries.get(page.complaintId)!.push(...kept);
        if (rows.length > TIMELINE_PAGE)
          next.push({ complaintId: page.complaintId, afterId: kept.at(-1)!.id });
      });
      pending = next;
    }
    return entries;
  }

  return {
    /**
     * Everything the tenant holds on `subject`: their complaints (the EXPORT_COMPLAINT_LIMIT
     * received last), with each one's communications, timeline and retained events, read in one
     * snapshot, and the `data_subject.exported` event that records who asked, in the same
     * transaction. A subject of whom nothing is held gets empty lists, and is recorded too.
     */
    async export(tenantId: string, subject: DataSubject, actor: ActorRecord): Promise<DataSubjectExport> {
      return db.transaction(
        async (tx) => {
          const found = await repository.subjectComplaintIds(
            tenantId,
            subject,
            EXPORT_COMPLAINT_LIMIT + 1,
            tx,
          );
          const truncated = found.length > EXPORT_COMPLAINT_LIMIT;
          const ids = found.slice(0, EXPORT_COMPLAINT_LIMIT);
          const rows = new Map((await complaints.findByIds(tenantId, ids, tx)).map((row) => [row.id, row]));
          const next = await deadlines.nextPendingFor(tenantId, ids, tx);
          const timelines = await timelinesOf(tenantId, ids, tx);
          const communicationRows = await repository.communicationsOf(tenantId, ids, tx);
          const eventRows = await repository.eventsOf(tenantId, ids, tx);
          const generatedAt = clock.now();
          const answer: DataSubjectExport = {
            subject: { identifier: subject.identifier, value: subject.value },
            generatedAt: generatedAt.toISOString(),
            complaints: ids.flatMap((id) => {
              const row = rows.get(id);
              return row ? [toComplaintView(row, next.get(id))] : [];
            }),
            communications: communicationRows.map(toCommunicationView),
            timeline: ids.flatMap((complaintId) =>
              (timelines.get(complaintId) ?? []).map((row) => ({ ...toTimelineEntryView(row), complaintId })),
            ),
            events: eventRows.map(toEventEnvelope),
            counts: { complaints: 0, communications: 0, timelineEntries: 0, events: 0 },
            truncated,
          };
          answer.counts = {
            complaints: answer.complaints.length,
            communications: answer.communications.length,
            timelineEntries: answer.timeline.length,
            events: answer.events.length,
          };
          const audit: DataSubjectExportedEventData = {
            subject: { identifier: subject.identifier, masked: subject.masked },
            counts: answer.counts,
            truncated,
            actor,
          };
          await events.appendForTenant(
            { tenantId, type: 'data_subject.exported', occurredAt: generatedAt, payload: audit },
            tx,
          );
          return answer;
        },
        // One snapshot: the complaints, their timelines and events agree with each other.
        { isolationLevel: 'repeatable read' },
      );
    },
  };
}

export type DataSubjectsService = ReturnType<typeof createDataSubjectsService>;
