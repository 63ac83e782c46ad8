import type { Db, Queryable } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  TemplateRenderFailedError,
  TemplateVariableMissingError,
  ValidationError,
} from '../../lib/errors.js';
import { etagForVersion, ifMatchSatisfied } from '../../lib/etag.js';
import { newId } from '../../lib/ids.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import { COMMUNICATION_BODY_MAX } from '../complaints/complaints.schemas.js';
import type { DeadlinesRepository } from '../deadlines/deadlines.repository.js';
import { maskComplaint } from '../personal-data/personal-fields.js';
import type { ReplyTemplateRow, ReplyTemplatesRepository } from './reply-templates.repository.js';
import type {
  CreateTemplateInput,
  RenderedTemplate,
  RenderTemplateInput,
  TemplateVariables,
  UpdateTemplateInput,
} from './reply-templates.schemas.js';
import { complaintTemplateContext } from './template-context.js';
import {
  checkTemplate,
  MissingVariableError,
  renderTemplate,
  TemplateSyntaxError,
} from './template-rendering.js';

/** Reply templates (统一回复口径): CRUD, and rendering against a complaint. */
export function createReplyTemplatesService(deps: {
  db: Db;
  templates: ReplyTemplatesRepository;
  complaints: Pick<ComplaintsRepository, 'findByKey'>;
  deadlines: Pick<DeadlinesRepository, 'nextPendingFor'>;
  timeZoneOf: (tenantId: string, tx?: Queryable) => Promise<string>;
  clock: Clock;
}) {
  const { db, templates, clock } = deps;

  function assertCompiles(input: { subject?: string | null; body?: string }) {
    const problems = [];
    for (const field of ['subject', 'body'] as const) {
      const source = input[field];
      if (!source) continue;
      try {
        checkTemplate(source);
      } catch (error) {
        if (!(error instanceof TemplateSyntaxError)) throw error;
        problems.push({ field: `body.${field}`, message: `is not a valid template: ${error.message}` });
      }
    }
    if (problems.length > 0) throw new ValidationError(problems);
  }

  async function get(tenantId: string, id: string, tx: Queryable = db): Promise<ReplyTemplateRow> {
    const row = await templates.find(tenantId, id, {}, tx);
    if (!row) throw new NotFoundError('Reply template', id);
    return row;
  }

  /**
   * Renders a template for a complaint; a variable without a value is a 422 naming it. With
   * `inClear` false (a preview for a caller without personal_data:read) the customer's data is
   * filled in masked, as that caller reads it on the complaint.
   */
  async function renderFor(
    template: ReplyTemplateRow,
    complaint: ComplaintRow,
    variables: TemplateVariables,
    tx: Queryable,
    inClear = true,
  ): Promise<RenderedTemplate> {
    const next = await deps.deadlines.nextPendingFor(complaint.tenantId, [complaint.id], tx);
    const facts = complaintTemplateContext(
      complaint,
      next.get(complaint.id),
      await deps.timeZoneOf(complaint.tenantId, tx),
      clock.now(),
      variables,
    );
    // The context names the customer and desired outcome by the complaint view's paths.
    const context = inClear ? facts : maskComplaint(facts);
    try {
      return {
        templateId: template.id,
        templateVersion: template.version,
        key: template.key,
        locale: template.locale,
        subject: template.subject === null ? null : renderTemplate(template.subject, context),
        body: renderTemplate(template.body, context),
      };
    } catch (error) {
      const name = `${template.key}/${template.locale}`;
      if (error instanceof MissingVariableError) throw new TemplateVariableMissingError(error.variable, name);
      // A template saved before the current checks, or failing only on these values (an `if`
      // without its argument): the caller's to fix, not a server fault.
      if (error instanceof TemplateSyntaxError) throw new TemplateRenderFailedError(name, error.message);
      throw error;
    }
  }

  return {
    get,
    list: (tenantId: string, filters: { key?: string; locale?: string }) => templates.list(tenantId, filters),

    /** Every new tenant starts with the seed templates, in its creation transaction. */
    seedDefaults: (tenantId: string, tx: Queryable) => templates.seedDefaults(tenantId, tx),

    async create(tenantId: string, input: CreateTemplateInput): Promise<ReplyTemplateRow> {
      assertCompiles(input);
      const now = clock.now();
      const row = await templates.insert({ id: newId(), tenantId, ...input, createdAt: now, updatedAt: now });
      if (!row) {
        throw new ConflictError('reply_template_exists', 'A template for this key and locale exists', {
          detail: `There is already a '${input.key}' template in '${input.locale}'; change that one instead.`,
        });
      }
      return row;
    },

    /** Writes a new version if the template is still at the version the caller read (If-Match). */
    async update(tenantId: string, id: string, ifMatch: string | undefined, input: UpdateTemplateInput) {
      if (!ifMatch) throw new PreconditionRequiredError('reply template');
      assertCompiles(input);
      return db.transaction(async (tx) => {
        const current = await templates.find(tenantId, id, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Reply template', id);
        if (!ifMatchSatisfied(ifMatch, etagForVersion(current.version))) {
          throw new PreconditionFailedError('Reply template', id, etagForVersion(current.version));
        }
        return templates.update(tenantId, id, input, clock.now(), tx);
      });
    },

    async delete(tenantId: string, id: string): Promise<void> {
      if (!(await templates.delete(tenantId, id))) throw new NotFoundError('Reply template', id);
    },

    /**
     * Renders a template against a complaint of the same tenant, for a handler to send; the
     * customer's data masked unless the caller may read it in clear (`inClear`).
     */
    async render(
      tenantId: string,
      id: string,
      input: RenderTemplateInput,
      inClear: boolean,
    ): Promise<RenderedTemplate> {
      const template = await get(tenantId, id);
      const complaint = await deps.complaints.findByKey(tenantId, input.complaintId);
      if (!complaint) throw new NotFoundError('Complaint', input.complaintId);
      return renderFor(template, complaint, input.variables, db, inClear);
    },

    /**
     * The template a communication cites, rendered for its complaint inside the caller's
     * transaction: the text to send and the version it came from.
     */
    async renderForCommunication(
      complaint: ComplaintRow,
      templateId: string,
      variables: TemplateVariables,
      tx: Queryable,
    ): Promise<RenderedTemplate> {
      const template = await templates.find(complaint.tenantId, templateId, {}, tx);
      if (!template) {
        throw new ValidationError([
          { field: 'body.templateId', message: `reply template '${templateId}' not found` },
        ]);
      }
      const rendered = await renderFor(template, complaint, variables, tx);
      if (rendered.body.length > COMMUNICATION_BODY_MAX) {
        throw new ValidationError([
          {
            field: 'body.templateId',
            message: `renders to ${rendered.body.length} characters; a communication holds at most ${COMMUNICATION_BODY_MAX}`,
          },
        ]);
      }
      return rendered;
    },
  };
}

export type ReplyTemplatesService = ReturnType<typeof createReplyTemplatesService>;
