import { etagOfVersion, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import {
  createPolicyBody,
  policyFromRegimeBody,
  policyIdParams,
  previewBody,
  toPolicyView,
  updatePolicyBody,
} from './sla-policies.schemas.js';
import type { SlaPoliciesService } from './sla-policies.service.js';
import { TARGET_KEYS } from './sla-targets.js';

const typeDefs = /* GraphQL */ `
  type SlaTarget {
    "ISO-8601 duration such as PT24H or P5D."
    duration: String!
    clock: SlaClock!
    "Set by regulatory templates: a due time on a closed day of the calendar moves to the next working day."
    endsOnWorkingDay: Boolean
  }

  type SlaTargets {
    ${TARGET_KEYS.map((key) => `${key}: SlaTarget!`).join('\n    ')}
  }

  "Which complaints a policy governs; empty lists match everything."
  type SlaPolicyMatch {
    channels: [Channel!]!
    categories: [String!]!
    severities: [Severity!]!
  }

  "Who each escalation level reaches (REST's keys \\"1\\", \\"2\\", \\"3\\")."
  type EscalationTargets {
    level1: [EscalationTarget!]!
    level2: [EscalationTarget!]!
    level3: [EscalationTarget!]!
  }

  "An SLA policy's current version, as GET /v1/sla-policies/{id} shows it."
  type SlaPolicy {
    id: ID!
    name: String!
    "Lower wins when several policies match."
    priority: Int!
    match: SlaPolicyMatch!
    calendarId: ID
    "Fractions of the allowed time at which a warning fires."
    warnAt: [Float!]!
    targets: SlaTargets!
    escalationTargets: EscalationTargets!
    isDefault: Boolean!
    "The regulatory template the policy was made from (regulatoryRegimes), if any."
    regime: String
    active: Boolean!
    "Send it back as \`version\` to updateSlaPolicy (REST: the ETag)."
    version: Int!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type PlannedDeadline {
    kind: DeadlineKind!
    clock: SlaClock!
    duration: String!
    startsAt: DateTime!
    dueAt: DateTime!
    warnAts: [DateTime!]!
  }

  "The deadlines a policy would set for a complaint received now or at receivedAt."
  type SlaPreview {
    policyId: ID!
    policyVersion: Int!
    deadlines: [PlannedDeadline!]!
  }

  input SlaTargetInput {
    duration: String!
    clock: SlaClock!
  }

  "Targets left out take the defaults (create) or stay (update)."
  input SlaTargetsInput {
    ${TARGET_KEYS.map((key) => `${key}: SlaTargetInput`).join('\n    ')}
  }

  input SlaPolicyMatchInput {
    channels: [Channel!]
    categories: [String!]
    severities: [Severity!]
  }

  input EscalationTargetInput {
    role: String!
    name: String
    email: String
  }

  input EscalationTargetsInput {
    level1: [EscalationTargetInput!]!
    level2: [EscalationTargetInput!]!
    level3: [EscalationTargetInput!]!
  }

  "As POST /v1/sla-policies takes it."
  input SlaPolicyInput {
    name: String!
    priority: Int!
    match: SlaPolicyMatchInput
    calendarId: ID
    warnAt: [Float!]
    targets: SlaTargetsInput
    escalationTargets: EscalationTargetsInput
    active: Boolean
  }

  "As PATCH /v1/sla-policies/{id} takes it: a new version with the fields given."
  input SlaPolicyUpdateInput {
    name: String
    priority: Int
    match: SlaPolicyMatchInput
    calendarId: ID
    warnAt: [Float!]
    targets: SlaTargetsInput
    escalationTargets: EscalationTargetsInput
    active: Boolean
  }

  "As POST /v1/sla-policies/from-regime takes it."
  input SlaPolicyFromRegimeInput {
    regime: String!
    name: String
    priority: Int
    match: SlaPolicyMatchInput
    calendarId: ID
    warnAt: [Float!]
    active: Boolean
  }

  input SlaPreviewInput {
    receivedAt: DateTime!
    channel: Channel!
    severity: Severity
    category: String
  }

  extend type Query {
    "The tenant's SLA policies (scope policies:manage)."
    slaPolicies: [SlaPolicy!]! @complexity(value: 20)
    "An SLA policy; null with a not_found error when this tenant has none."
    slaPolicy(id: ID!): SlaPolicy
    "The deadlines this policy would set, before anything is created."
    slaPolicyPreview(id: ID!, input: SlaPreviewInput!): SlaPreview!
  }

  extend type Mutation {
    "Creates an SLA policy (scope policies:manage)."
    createSlaPolicy(input: SlaPolicyInput!): SlaPolicy!
    "Applies a regulatory template: a policy whose targets are the regime's clocks (scope policies:manage)."
    createSlaPolicyFromRegime(input: SlaPolicyFromRegimeInput!): SlaPolicy!
    "Writes a new version of a policy still at \`version\`; deadlines keep the version they came from."
    updateSlaPolicy(id: ID!, version: Int!, input: SlaPolicyUpdateInput!): SlaPolicy!
  }
`;

type LevelTargets = { level1?: unknown; level2?: unknown; level3?: unknown } | null | undefined;

/** GraphQL's level1..3 as REST's "1".."3" keys, for the same zod schema. */
function restInput(input: Record<string, unknown>): Record<string, unknown> {
  const levels = input.escalationTargets as LevelTargets;
  if (!levels) return input;
  return { ...input, escalationTargets: { '1': levels.level1, '2': levels.level2, '3': levels.level3 } };
}

function graphqlView(view: ReturnType<typeof toPolicyView>) {
  const targets = view.escalationTargets;
  return { ...view, escalationTargets: { level1: targets['1'], level2: targets['2'], level3: targets['3'] } };
}

const idArg = (value: unknown) => parseArgs(policyIdParams, { id: value }, 'args').id;
const previewArgs = previewBody;

/** SLA policies over GraphQL (scope policies:manage): the same SlaPoliciesService calls as REST. */
export function slaPoliciesGraphql(deps: { policies: SlaPoliciesService }): GraphqlModule {
  const { policies } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async slaPolicies(_root, _args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          return (await policies.list(tenantId)).map((row) => graphqlView(toPolicyView(row)));
        },
        async slaPolicy(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          return graphqlView(toPolicyView(await policies.get(tenantId, idArg(args.id))));
        },
        async slaPolicyPreview(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(previewArgs, withoutNulls(args.input), 'input');
          const { policy, planned } = await policies.preview(tenantId, idArg(args.id), input);
          return {
            policyId: policy.id,
            policyVersion: policy.version,
            deadlines: planned.map((deadline) => ({
              kind: deadline.kind,
              clock: deadline.clock,
              duration: deadline.duration,
              startsAt: deadline.startsAt.toISOString(),
              dueAt: deadline.dueAt.toISOString(),
              warnAts: deadline.warnAts.map((date) => date.toISOString()),
            })),
          };
        },
      },
      Mutation: {
        async createSlaPolicy(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(createPolicyBody, restInput(args.input), 'input');
          return graphqlView(toPolicyView(await policies.create(tenantId, input)));
        },
        async createSlaPolicyFromRegime(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(policyFromRegimeBody, withoutNulls(args.input), 'input');
          return graphqlView(toPolicyView(await policies.createFromRegime(tenantId, input)));
        },
        async updateSlaPolicy(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(updatePolicyBody, restInput(args.input), 'input');
          const row = await policies.update(tenantId, idArg(args.id), etagOfVersion(args.version), input);
          return graphqlView(toPolicyView(row));
        },
      },
    },
  };
}
