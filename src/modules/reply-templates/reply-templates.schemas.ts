import { z } from 'zod';
import { COMPLAINT_KEY_PATTERN } from '../complaints/complaint-reference.js';
import type { ReplyTemplateRow } from './reply-templates.repository.js';

const KEY = /^[a-z][a-z0-9_]{0,63}$/;
// BCP 47 language tags as used for replies: zh-CN, en, en-GB, zh-Hant-TW.
const LOCALE = /^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|\d{3}))?$/;

const keySchema = z
  .string()
  .regex(KEY, 'must be lower-case letters, digits and _ (e.g. resolution_notice)')
  .describe('What the reply is for, e.g. acknowledgement, resolution_notice, follow_up.');
const localeSchema = z
  .string()
  .max(35)
  .regex(LOCALE, 'must be a language tag such as zh-CN or en')
  .describe('Language tag, e.g. zh-CN or en.');
const bodySchema = z
  .string()
  .min(1)
  .max(20_000)
  .describe('Handlebars text: {{customer.name}}, {{reference}}, {{nextDueAt}} … (see the README).');

export const createTemplateBody = z
  .strictObject({
    key: keySchema,
    locale: localeSchema,
    name: z.string().trim().min(1).max(200),
    subject: z.string().min(1).max(500).nullable().default(null),
    body: bodySchema,
  })
  .meta({ id: 'ReplyTemplateCreate' });

export const updateTemplateBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    subject: z.string().min(1).max(500).nullable().optional(),
    body: bodySchema.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field')
  .meta({ id: 'ReplyTemplateUpdate' });

/** Extra values a render or a communication supplies: text, numbers, yes/no, one level of nesting. */
const scalar = z.union([z.string().max(5_000), z.number(), z.boolean()]);
const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain identifier');
const nestedVariables = z
  .record(variableName, scalar)
  .refine((value) => Object.keys(value).length <= 50, 'at most 50 members');
export const templateVariablesSchema = z
  .record(variableName, z.union([scalar, nestedVariables]))
  .refine((value) => Object.keys(value).length <= 50, 'at most 50 variables')
  .describe('Values for variables the complaint does not supply, e.g. {"resolution": {"measures": "…"}}.');

export const renderTemplateBody = z
  .strictObject({
    complaintId: z
      .string()
      .regex(COMPLAINT_KEY_PATTERN, 'must be a complaint id (UUID) or reference such as C-000123')
      .describe('The complaint whose facts fill the template.'),
    variables: templateVariablesSchema.default({}),
  })
  .meta({ id: 'ReplyTemplateRenderRequest' });

export const listTemplatesQuery = z.strictObject({
  key: keySchema.optional(),
  locale: localeSchema.optional(),
});

export const templateIdParams = z.object({ id: z.uuid() });

export const templateSchema = z
  .object({
    id: z.uuid(),
    key: z.string(),
    locale: z.string(),
    name: z.string(),
    subject: z.string().nullable(),
    body: z.string(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ReplyTemplate' });

export const templateListSchema = z
  .object({ data: z.array(templateSchema) })
  .meta({ id: 'ReplyTemplateList' });

export const renderedTemplateSchema = z
  .object({
    templateId: z.uuid(),
    templateVersion: z.number().int(),
    key: z.string(),
    locale: z.string(),
    subject: z.string().nullable(),
    body: z.string(),
  })
  .meta({ id: 'RenderedReply' });

export type CreateTemplateInput = z.output<typeof createTemplateBody>;
export type UpdateTemplateInput = z.output<typeof updateTemplateBody>;
export type RenderTemplateInput = z.output<typeof renderTemplateBody>;
export type TemplateVariables = z.output<typeof templateVariablesSchema>;
export type RenderedTemplate = z.output<typeof renderedTemplateSchema>;

/** The template as the REST API shows it. */
export function toTemplateView(row: ReplyTemplateRow): z.output<typeof templateSchema> {
  return {
    id: row.id,
    key: row.key,
    locale: row.locale,
    name: row.name,
    subject: row.subject,
    body: row.body,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
