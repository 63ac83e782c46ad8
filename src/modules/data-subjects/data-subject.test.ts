import { describe, expect, it } from 'vitest';
import { DataSubjectInvalidError } from '../../lib/errors.js';
import { customerIdentityKey } from '../major-complaints/major-rules.js';
import { parseDataSubject } from './data-subject.js';

describe('parseDataSubject', () => {
  it('normalises each identifier as a complaint keys its customer', () => {
    expect(parseDataSubject({ phone: ' +86 138-0013 (8000) ' })).toEqual({
      identifier: 'phone',
      value: '+8613800138000',
      key: 'tel:+8613800138000',
      masked: '+86 138****8000',
    });
    expect(parseDataSubject({ phone: '138 0013 8000' }).key).toBe('tel:13800138000');
    expect(parseDataSubject({ email: 'Wang.Fang@Example.com' })).toEqual({
      identifier: 'email',
      value: 'wang.fang@example.com',
      key: 'email:wang.fang@example.com',
      masked: 'W***@Example.com',
    });
    expect(parseDataSubject({ externalId: 'CRM-0012345' })).toEqual({
      identifier: 'externalId',
      value: 'CRM-0012345',
      key: 'ext:CRM-0012345',
      masked: 'CR***45',
    });
  });

  it('gives the key customerIdentityKey gives a complaint naming only that identifier', () => {
    for (const input of [{ phone: '+1 (415) 555-2671' }, { email: 'A@B.CO' }, { externalId: 'x-1' }]) {
      expect(parseDataSubject(input).key).toBe(customerIdentityKey(input));
    }
  });

  it('ignores blank and absent identifiers', () => {
    expect(parseDataSubject({ phone: '  ', email: null, externalId: 'CRM-1' }).identifier).toBe('externalId');
  });

  it.each([
    [{}, ['body.phone', 'body.email', 'body.externalId']],
    [{ phone: ' ', email: '' }, ['body.phone', 'body.email', 'body.externalId']],
    [{ phone: '+8613800138000', email: 'a@b.co' }, ['body.phone', 'body.email']],
    [{ email: 'not-an-address' }, ['body.email']],
    [{ phone: 'call me' }, ['body.phone']],
    [{ phone: '+()-' }, ['body.phone']],
  ])('refuses %j as data_subject_invalid naming %j', (input, fields) => {
    let error: unknown;
    try {
      parseDataSubject(input, 'body');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DataSubjectInvalidError);
    const invalid = error as DataSubjectInvalidError;
    expect(invalid).toMatchObject({ code: 'data_subject_invalid', status: 400 });
    expect(invalid.errors.map((e) => e.field)).toEqual(fields);
    // The detail never quotes the value: problems are logged.
    expect(JSON.stringify(invalid.errors) + invalid.detail).not.toMatch(
      /8613800138000|not-an-address|call me/,
    );
  });
});
