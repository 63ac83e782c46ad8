export * from './complaints.js';
export * from './escalations.js';
export * from './events.js';
export * from './idempotency.js';
export * from './sla.js';
export * from './tenancy.js';
export * from './webhooks.js';
