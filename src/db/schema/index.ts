export * from './complaints.js';
export * from './idempotency.js';
export * from './tenancy.js';
