import { describe, expect, it } from 'vitest';
import {
  countryCallingCode,
  MASKED_TEXT,
  maskEmail,
  maskIdentifier,
  maskName,
  maskPhone,
  maskText,
  maskValue,
} from './masks.js';

describe('maskName', () => {
  it.each([
    ['Wang Fang', 'Wang F***'],
    ['Mary Ann Smith', 'Mary A*** S***'],
    ['  Wang   Fang ', 'Wang F***'],
    ['Madonna', 'M***'],
    ['Émile Zola', 'Émile Z***'],
    ['王芳', '王*'],
    ['王小明', '王**'],
    ['欧阳娜娜', '欧***'],
    ['王', '*'],
    ['王 芳', '王*'],
    ['김민준', '김**'],
    ['𠀋芳', '𠀋*'],
    ['', ''],
    ['   ', '   '],
    ['A', 'A***'],
  ])('%j → %j', (name, masked) => {
    expect(maskName(name)).toBe(masked);
  });
});

describe('maskPhone', () => {
  it.each([
    ['+8613812348000', '+86 138****8000'],
    ['+86 138 1234 8000', '+86 138****8000'],
    ['+86-138-1234-8000', '+86 138****8000'],
    ['13812348000', '138****8000'],
    ['(010) 1234-5678', '010****5678'],
    ['+1 415 555 2671', '+1 415***2671'],
    ['+44 20 7946 0958', '+44 207***0958'],
    ['+852 9123 4567', '+852 ****4567'],
    ['87654321', '****4321'],
    ['12345', '*****'],
    ['110', '***'],
    ['+86', '+86 ***'],
    ['', ''],
    ['+-()', '***'],
  ])('%j → %j', (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });

  it('reads the country code from the ITU assignments', () => {
    expect(countryCallingCode('8613812348000')).toBe('86');
    expect(countryCallingCode('14155552671')).toBe('1');
    expect(countryCallingCode('79161234567')).toBe('7');
    expect(countryCallingCode('85291234567')).toBe('852');
    expect(countryCallingCode('886912345678')).toBe('886');
  });
});

describe('maskEmail', () => {
  it.each([
    ['wangfang@example.com', 'w***@example.com'],
    ['Wang.Fang+tag@mail.example.cn', 'W***@mail.example.cn'],
    ['a@b.co', 'a***@b.co'],
    ['王芳@例子.中国', '王***@例子.中国'],
    ['@example.com', '***@example.com'],
    ['not-an-address', 'n***'],
    ['', ''],
  ])('%j → %j', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });
});

describe('maskIdentifier', () => {
  it.each([
    ['CRM-0012345', 'CR***45'],
    ['customer-42-7', 'cu***-7'],
    ['123456', '12***56'],
    ['12345', '***'],
    ['A', '***'],
    ['', ''],
  ])('%j → %j', (id, masked) => {
    expect(maskIdentifier(id)).toBe(masked);
  });
});

describe('maskText', () => {
  it('replaces any text by the fixed marker, and leaves empty text empty', () => {
    expect(maskText('The lift in building 3 stopped; call me on 13812348000.')).toBe(MASKED_TEXT);
    expect(maskText('x')).toBe(MASKED_TEXT);
    expect(maskText('')).toBe('');
  });
});

describe('maskValue', () => {
  it('leaves null and undefined as they are and hides values that are not text', () => {
    expect(maskValue('name', null)).toBeNull();
    expect(maskValue('phone', undefined)).toBeUndefined();
    expect(maskValue('email', { local: 'wangfang' })).toBe(MASKED_TEXT);
    expect(maskValue('identifier', 12345678)).toBe(MASKED_TEXT);
  });

  it('changes nothing when given a masked value', () => {
    const values = {
      name: ['Wang Fang', '王芳', '欧阳娜娜', 'Madonna', 'Mary Ann Smith'],
      phone: ['+8613812348000', '13812348000', '+1 415 555 2671', '87654321', '12345'],
      email: ['wangfang@example.com', 'not-an-address', '@example.com'],
      identifier: ['CRM-0012345', '12345', 'customer-42-7'],
      text: ['anything at all'],
    } as const;
    for (const [kind, list] of Object.entries(values) as [keyof typeof values, readonly string[]][]) {
      for (const value of list) {
        const once = maskValue(kind, value);
        expect(maskValue(kind, once), `${kind} ${value}`).toBe(once);
      }
    }
  });
});
