import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, eventTypesSelected, matchesAnyEventPattern } from './event-types.js';

describe('event type selection', () => {
  it('expands wildcards to the catalogue types they match, each once, in catalogue order', () => {
    expect(eventTypesSelected(['deadline.*'])).toEqual([
      'deadline.warning',
      'deadline.breached',
      'deadline.met',
      'deadline.extended',
    ]);
    expect(eventTypesSelected(['deadline.met', 'deadline.*', 'complaint.created'])).toEqual([
      'complaint.created',
      'deadline.warning',
      'deadline.breached',
      'deadline.met',
      'deadline.extended',
    ]);
    expect(eventTypesSelected(['*'])).toEqual(EVENT_TYPES);
  });

  it('selects exactly the types the patterns match', () => {
    for (const patterns of [['complaint.*'], ['webhook.ping', 'resolution.*'], ['follow_up.due']]) {
      expect(eventTypesSelected(patterns)).toEqual(
        EVENT_TYPES.filter((type) => matchesAnyEventPattern(patterns, type)),
      );
      expect(eventTypesSelected(patterns).length).toBeGreaterThan(0);
    }
  });
});
