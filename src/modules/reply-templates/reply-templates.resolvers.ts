import { etagOfVersion, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import { seesPersonalData } from '../personal-data/personal-fields.js';
import {
  createTemplateBody,
  listTemplatesQuery,
  renderTemplateBody,
  templateIdParams,
  toTemplateView,
  updateTemplateBody,
} from './reply-templates.schemas.js';

import type { ReplyTemplatesService } from './reply-templates.service.js';

const typeDefs = /* GraphQL */ `
  "A reply template, as GET /v1/reply-templates/{id} shows it: Handlebars text filled from a complaint."
  type ReplyTemplate {
    id: ID!
    "What the reply is for, e.g. acknowledgement, resolution_notice, follow_up."
    key: String!
    "Language tag, e.g. zh-CN or en; one template per key and locale."
    locale: String!
    name: String!
    "Handlebars, or null for a reply without a subject."
    subject: String
    "Handlebars text: {{customer.name}}, {{reference}}, {{nextDueAt}} … (see the README)."
    body: String!
    "Send it back as \`version\` to updateReplyTemplate (REST: the ETag)."
    version: Int!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  "A template filled in for a complaint, as POST /v1/reply-templates/{id}/render answers it."
  type RenderedReply {
    templateId: ID!
    "The template version the text came from."
    templateVersion: Int!
    key: String!
    locale: String!
    subject: String
    body: String!
  }

  "As POST /v1/reply-templates takes it."
  input ReplyTemplateInput {
    key: String!
    locale: String!
    name: String!
    subject: String
    body: String!
  }

  "As PATCH /v1/reply-templates/{id} takes it: fields left out stay, subject null clears it."
  input ReplyTemplateUpdateInput {
    name: String
    subject: String
    body: String
  }

  input RenderReplyTemplateInput {
    "The complaint (id or reference, C-000123) whose facts fill the template."
    complaintId: ID!
    "Values for variables the complaint does not supply, e.g. {\\"resolution\\": {\\"measures\\": \\"…\\"}}."
    variables: JSONObject
  }

  extend type Query {
    "The tenant's reply templates by key and locale, optionally only one key or locale (scope complaints:read)."
    replyTemplates(key: String, locale: String): [ReplyTemplate!]! @complexity(value: 10)
    "A reply template; null with a not_found error when this tenant has none."
    replyTemplate(id: ID!): ReplyTemplate
    """
    Fills a template from a complaint and \`variables\`; a variable with no value is
    template_variable_missing naming it, never a blank. A query, not a mutation: rendering writes
    nothing and is safe to repeat (REST uses POST only to carry the variables in a body).
    """
    renderReplyTemplate(id: ID!, input: RenderReplyTemplateInput!): RenderedReply!
  }

  extend type Mutation {
    "Creates a template (reply_template_exists when the key and locale are taken; scope policies:manage)."
    createReplyTemplate(input: ReplyTemplateInput!): ReplyTemplate!
    "Writes a new version of a template still at \`version\`; communications keep the version they came from."
    updateReplyTemplate(id: ID!, version: Int!, input: ReplyTemplateUpdateInput!): ReplyTemplate!
    "Deletes a template; answers its id."
    deleteReplyTemplate(id: ID!): ID!
  }
`;

const idArg = (value: unknown) => parseArgs(templateIdParams, { id: value }, 'args').id;

/**
 * Reply templates over GraphQL: the same ReplyTemplatesService calls as REST, read and rendered
 * with complaints:read, managed with policies:manage.
 */
export function replyTemplatesGraphql(deps: { templates: ReplyTemplatesService }): GraphqlModule {
  const { templates } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async replyTemplates(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const filters = parseArgs(listTemplatesQuery, withoutNulls(args), 'args');
          return (await templates.list(tenantId, filters)).map(toTemplateView);
        },
        async replyTemplate(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          return toTemplateView(await templates.get(tenantId, idArg(args.id)));
        },
        async renderReplyTemplate(_root, args, context) {
          const { tenantId, scopes } = requireScope(context, 'complaints:read');
          const id = idArg(args.id);
          // Null variables mean none, as when REST leaves them out; a null inside them stays an error.
          const { complaintId, variables } = args.input;
          const input = parseArgs(
            renderTemplateBody,
            { complaintId, variables: variables ?? undefined },
            'input',
          );
          return templates.render(tenantId, id, input, seesPersonalData(scopes));
        },
      },
      Mutation: {
        async createReplyTemplate(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(createTemplateBody, args.input, 'input');
          return toTemplateView(await templates.create(tenantId, input));
        },
        async updateReplyTemplate(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const id = idArg(args.id);
          const input = parseArgs(updateTemplateBody, args.input, 'input');
          return toTemplateView(await templates.update(tenantId, id, etagOfVersion(args.version), input));
        },
        async deleteReplyTemplate(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const id = idArg(args.id);
          await templates.delete(tenantId, id);
          return id;
        },
      },
    },
  };
}
