export * from './complaints.js';
export * from './events.js';
export * from './idempotency.js';
export * from './sla.js';
export * from './tenancy.js';
