import { z } from 'zod';
import { actingContextOf, parseArgs, requireScope } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import { toDeadlineView } from '../deadlines/deadline-views.js';
import { extensionBody, regimeCatalogue, regimeReportQuery } from './regulatory-regimes.schemas.js';
import type { RegulatoryRegimesService } from './regulatory-regimes.service.js';

const typeDefs = /* GraphQL */ `
  "A clock of a regulatory regime, counted from receipt."
  type RegulatoryClock {
    id: String!
    label: String!
    "The deadline kind it sets; null for a window the regime reads (an exemption)."
    kind: DeadlineKind
    "ISO-8601 duration."
    duration: String!
    clock: SlaClock!
    "A last day on a closed day of the calendar moves to the next working day."
    endsOnWorkingDay: Boolean!
    "The rule it comes from."
    citation: String!
  }

  "An extension step: the new limit counted from receipt, and the least role that may approve it."
  type RegulatoryExtensionStep {
    step: Int!
    duration: String!
    clock: SlaClock!
    endsOnWorkingDay: Boolean!
    approverRole: String!
    "The provisional credit (a pre-refund of the complaint) must come first."
    requiresPreRefund: Boolean!
    condition: String!
    citation: String!
  }

  "What the customer must be told when the response will be late: the extension's customer notice."
  type RegulatoryHoldingResponse {
    required: Boolean!
    content: String!
    citation: String!
  }

  "A regulatory template, as GET /v1/regulatory-regimes lists it."
  type RegulatoryRegime {
    id: String!
    name: String!
    jurisdiction: String!
    citation: String!
    clocks: [RegulatoryClock!]!
    "The deadline kind an extension moves."
    extends: DeadlineKind!
    extensions: [RegulatoryExtensionStep!]!
    holdingResponse: RegulatoryHoldingResponse
  }

  "An extension of a deadline under its regime."
  type DeadlineExtension {
    regime: String!
    "1 for the regime's first extension, 2 for its second."
    step: Int!
    previousDueAt: String!
    dueAt: String!
    reason: String!
    approver: Staff!
    "The rule allowing the extension."
    citation: String!
    "The customer notice, as a communication of the complaint."
    communicationId: ID!
  }

  type ExtendedDeadline {
    deadline: Deadline!
    extension: DeadlineExtension!
  }

  input CustomerNoticeInput {
    channel: Channel!
    body: String!
  }

  "As POST /v1/complaints/{id}/deadlines/{deadlineId}/extensions takes it."
  input DeadlineExtensionInput {
    reason: String!
    approver: StaffInput!
    customerNotice: CustomerNoticeInput!
  }

  "A clock of the compliance report: how many complaints it decided, and how many were answered within it."
  type RegulatoryClockCompliance {
    id: String!
    label: String!
    kind: DeadlineKind
    duration: String!
    clock: SlaClock!
    citation: String!
    decided: Int!
    within: Int!
    withinPercent: Float
  }

  "As GET /v1/reports/regulatory-compliance answers."
  type RegulatoryComplianceReport {
    regime: String!
    name: String!
    citation: String!
    from: String!
    to: String!
    timeZone: String!
    asOf: DateTime!
    received: Int!
    closed: Int!
    extensionsUsed: Int!
    extendedComplaints: Int!
    breaches: Int!
    clocks: [RegulatoryClockCompliance!]!
  }

  extend type Query {
    "The regulatory templates (scope policies:manage)."
    regulatoryRegimes: [RegulatoryRegime!]!
    "Compliance with a regime for complaints received from \`from\` to \`to\`, local days (scope reports:read)."
    regulatoryComplianceReport(regime: String!, from: String!, to: String!): RegulatoryComplianceReport!
  }

  extend type Mutation {
    "Extends a deadline by its regime's next extension step (scope complaints:write)."
    extendDeadline(complaintId: ID!, deadlineId: ID!, input: DeadlineExtensionInput!): ExtendedDeadline!
  }
`;

const extendArgs = z.strictObject({
  complaintId: complaintKeyParams.shape.id,
  deadlineId: z.uuid(),
  input: extensionBody,
});

/** Regulatory templates and deadline extensions over GraphQL: the same calls as REST. */
export function regulatoryRegimesGraphql(deps: { regimes: RegulatoryRegimesService }): GraphqlModule {
  return {
    typeDefs,
    resolvers: {
      Query: {
        regulatoryRegimes(_root, _args, context) {
          requireScope(context, 'policies:manage');
          return regimeCatalogue();
        },
        regulatoryComplianceReport(_root, args, context) {
          const { tenantId } = requireScope(context, 'reports:read');
          return deps.regimes.report(tenantId, parseArgs(regimeReportQuery, args, 'args'));
        },
      },
      Mutation: {
        async extendDeadline(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, deadlineId, input } = parseArgs(extendArgs, args, 'args');
          const { deadline, extension } = await deps.regimes.extend(acting, complaintId, deadlineId, input);
          return { deadline: toDeadlineView(deadline), extension };
        },
      },
    },
  };
}
