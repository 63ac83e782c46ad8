import { etagOfVersion, parseArgs, requireScope } from '../../graphql/context.js';
import { enumSdl, type GraphqlModule } from '../../graphql/module.js';
import { CAUSE_GROUPS } from './cause-taxonomy.js';
import { workflowSettingsSchema } from './settings.schemas.js';
import type { SettingsService, VersionedSettings } from './settings.service.js';

const typeDefs = /* GraphQL */ `
  "What each role may grant on its own, per currency."
  type ApprovalLimit {
    role: String!
    "ISO 4217 code such as CNY."
    currency: String!
    "Null for no limit."
    maxAmount: Float
  }

  ${enumSdl('CauseGroup', CAUSE_GROUPS, 'The family of a cause: a product defect, a service failure, misuse, or other.')}

  "Something complaints may be put down to; statistics count by its code."
  type Cause {
    code: String!
    group: CauseGroup!
    labels: CauseLabels!
  }

  type CauseLabels {
    zh: String!
    en: String!
  }

  input CauseInput {
    code: String!
    group: CauseGroup!
    labels: CauseLabelsInput!
  }

  input CauseLabelsInput {
    zh: String!
    en: String!
  }

  "How a tenant's complaint references look: {prefix}-{year}-{number}, the year only when asked for."
  type ReferenceFormat {
    "A capital letter and up to 9 capitals or digits, such as BJ."
    prefix: String!
    "Whether the year the complaint was recorded, in the tenant's time zone, follows the prefix."
    year: Boolean!
    "The number is zero-padded to at least this many digits (4–12), and grows past them."
    digits: Int!
  }

  input ReferenceFormatInput {
    prefix: String
    year: Boolean
    digits: Int
  }

  "The workflow settings in force (GET /v1/settings/workflow): seed values for anything never set."
  type WorkflowSettings {
    "Per category: how long after the event a complaint is still accepted (ISO-8601 periods)."
    acceptanceWindows: JSONObject!
    safetyCategories: [String!]!
    collectiveThreshold: Int!
    repeatWindowDays: Int!
    followUpMaxAttempts: Int!
    "ISO-8601 duration a resolved complaint stays quiet before it closes by itself (default P7D)."
    autoCloseAfter: String!
    "IANA time zone such as Asia/Shanghai: where the tenant's days start and end."
    timeZone: String!
    "How new complaints' references look (BJ-2026-0001234); existing ones keep theirs."
    referenceFormat: ReferenceFormat!
    roles: [String!]!
    approvalLimits: [ApprovalLimit!]!
    "What complaints may be put down to; seed 003 §8.1.1 unless set."
    causes: [Cause!]!
    "Send it back as \`version\` to replaceWorkflowSettings (REST: the ETag)."
    version: Int!
  }

  input ApprovalLimitInput {
    role: String!
    currency: String!
    maxAmount: Float
  }

  "The whole document, as PUT /v1/settings/workflow takes it: fields left out go back to their seed value."
  input WorkflowSettingsInput {
    acceptanceWindows: JSONObject
    safetyCategories: [String!]
    collectiveThreshold: Int
    repeatWindowDays: Int
    followUpMaxAttempts: Int
    autoCloseAfter: String
    timeZone: String
    referenceFormat: ReferenceFormatInput
    roles: [String!]
    approvalLimits: [ApprovalLimitInput!]
    causes: [CauseInput!]
  }

  extend type Query {
    "The tenant's workflow settings (scope policies:manage)."
    workflowSettings: WorkflowSettings!
  }

  extend type Mutation {
    "Replaces the workflow settings still at \`version\` (scope policies:manage)."
    replaceWorkflowSettings(version: Int!, settings: WorkflowSettingsInput!): WorkflowSettings!
  }
`;

const view = ({ settings, version }: VersionedSettings) => ({ ...settings, version });

/** Workflow settings over GraphQL: the same SettingsService calls as REST. */
export function settingsGraphql(deps: { settings: SettingsService }): GraphqlModule {
  const { settings } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async workflowSettings(_root, _args, context) {
          return view(await settings.read(requireScope(context, 'policies:manage').tenantId));
        },
      },
      Mutation: {
        async replaceWorkflowSettings(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(workflowSettingsSchema, args.settings, 'settings');
          return view(await settings.replace(tenantId, etagOfVersion(args.version), input));
        },
      },
    },
  };
}
