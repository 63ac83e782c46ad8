import { describe, expect, it } from 'vitest';
import { describeRecusal, recusalOf, sameStaff } from './recusal.js';

describe('recusal', () => {
  const conflicts = [{ staff: 'Zhao Lei', reason: 'Neighbour of the customer' }];

  it('lets anyone else handle the complaint', () => {
    expect(recusalOf('li.na', ['wang.wu'], conflicts)).toBeNull();
    expect(recusalOf('li.na', [], [])).toBeNull();
  });

  it('refuses the staff the complaint is about, whatever the case or spacing', () => {
    expect(recusalOf(' Wang.Wu ', ['wang.wu'], conflicts)).toEqual({
      staff: ' Wang.Wu ',
      basis: 'subject_of_complaint',
      reason: null,
    });
  });

  it('refuses staff who declared a conflict, with its reason', () => {
    const recusal = recusalOf('zhao lei', [], conflicts);
    expect(recusal).toEqual({
      staff: 'zhao lei',
      basis: 'declared_conflict',
      reason: 'Neighbour of the customer',
    });
    expect(describeRecusal(recusal!, 'C-000007')).toBe(
      "'zhao lei' declared a conflict of interest in complaint 'C-000007' (Neighbour of the customer) and may not handle it.",
    );
  });

  it('prefers the subject basis when both apply', () => {
    expect(recusalOf('Zhao Lei', ['zhao lei'], conflicts)?.basis).toBe('subject_of_complaint');
  });

  it('compares names trimmed and case-insensitively, and nothing looser', () => {
    expect(sameStaff('Li.Na', 'li.na ')).toBe(true);
    expect(sameStaff('li.na', 'lina')).toBe(false);
  });
});
