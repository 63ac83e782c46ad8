import { describe, expect, it } from 'vitest';
import { type CustomerFacts, followUpExemption } from './follow-up-exemptions.js';

const customer: CustomerFacts = {
  customerName: 'Wang Fang',
  customerPhone: '+86 138-0013 8000',
  customerEmail: 'Wang.Fang@Example.com',
  customerAddress: null,
  customerExternalId: null,
  tags: [],
};

describe('followUpExemption', () => {
  it.each([
    ['nothing exempts', customer, {}, false, null],
    [
      'on the spot with confirmation',
      customer,
      { onTheSpot: true, customerConfirmed: true },
      false,
      'settled_on_the_spot',
    ],
    ['on the spot without confirmation', customer, { onTheSpot: true }, false, null],
    ['sensitive by flag', customer, { sensitive: true }, false, 'sensitive'],
    ['sensitive by tag', { ...customer, tags: ['sensitive'] }, {}, false, 'sensitive'],
    ['anonymous', { ...customer, customerName: null }, {}, false, 'anonymous'],
    [
      'named by external id only',
      { ...customer, customerName: null, customerExternalId: 'x' },
      {},
      false,
      null,
    ],
    [
      'no contact details',
      { ...customer, customerPhone: null, customerEmail: null },
      {},
      false,
      'no_contact_details',
    ],
    [
      'an address only, for a visit in person',
      { ...customer, customerPhone: null, customerEmail: null, customerAddress: '12 Binjiang Road' },
      {},
      false,
      null,
    ],
    ['declined now', customer, { followUpDeclined: true }, false, 'customer_declined'],
    ['declined before', customer, {}, true, 'customer_declined'],
  ] as const)('%s', (_label, facts, flags, declinedBefore, expected) => {
    expect(followUpExemption({ ...facts, tags: [...facts.tags] }, flags, declinedBefore)).toBe(expected);
  });
});
