/**
 * Every field of the REST complaint as a GraphQL selection, so a GraphQL complaint compares to
 * REST's JSON whole: the tests' and the GraphQL benchmark's one list (it imports nothing, so the
 * benchmark loads no test runner).
 */
export const COMPLAINT_FIELDS = /* GraphQL */ `
  id reference status channel severity priority category subject description
  customer { name phone email address externalId }
  desiredOutcome occurredAt receivedAt receivedBy assignee escalationLevel externalRef
  complainantRelation complainantAuthorised rejection { code detail }
  acceptanceOverride { rejectionCode reason supervisor overriddenAt }
  responsibility upstreamParty needType qualityClass cause rootCauseNote liability { finding reason note }
  majorReasons majorSince mediaExposure regulatorInvolved premisesBlocked highValueReturn negativeMediaCoverage
  incidentKey subjectStaff
  tags metadata version
  nextDeadline { id kind dueAt }
  createdAt updatedAt
`;
