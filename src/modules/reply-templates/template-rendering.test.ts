import { describe, expect, it } from 'vitest';
import {
  checkTemplate,
  MissingVariableError,
  renderTemplate,
  TemplateSyntaxError,
  withoutBlanks,
} from './template-rendering.js';

const missingIn = (source: string, context: Record<string, unknown>) => {
  try {
    renderTemplate(source, context);
  } catch (error) {
    if (error instanceof MissingVariableError) return error.variable;
    throw error;
  }
  return null;
};

describe('renderTemplate', () => {
  it('fills variables, nested ones included, without HTML escaping', () => {
    expect(
      renderTemplate('尊敬的{{customer.name}}：{{reference}} <{{note}}>', {
        customer: { name: '王芳' },
        reference: 'C-000001',
        note: 'a & b',
      }),
    ).toBe('尊敬的王芳：C-000001 <a & b>');
  });

  it('names the missing variable by its full path, wherever it is', () => {
    expect(missingIn('Dear {{customer.name}}', { customer: {} })).toBe('customer.name');
    expect(missingIn('Dear {{customer.name}}', {})).toBe('customer.name');
    expect(missingIn('Line one\n  then {{reference}}', {})).toBe('reference');
    expect(missingIn('{{a}} {{a}} {{b.c}}', { a: 1, b: {} })).toBe('b.c');
  });

  it('lets a template make a section optional with #if, and only that way', () => {
    expect(renderTemplate('a{{#if when}} by {{when}}{{/if}}.', {})).toBe('a.');
    expect(renderTemplate('a{{#if when}} by {{when}}{{/if}}.', { when: 'noon' })).toBe('a by noon.');
    expect(missingIn('a by {{when}}.', {})).toBe('when');
  });

  it('treats a blank fact as missing, never as an empty string', () => {
    const context = withoutBlanks({ customer: { name: null, phone: '1' }, when: undefined });
    expect(context).toEqual({ customer: { phone: '1' } });
    expect(missingIn('{{customer.name}}', context)).toBe('customer.name');
  });

  it('refuses helpers that would hide a missing value or write to the log', () => {
    expect(() => checkTemplate('{{lookup . "x"}}')).toThrow(TemplateSyntaxError);
    expect(() => checkTemplate('{{log "x"}}')).toThrow(TemplateSyntaxError);
    expect(() => checkTemplate('{{#if a}}x{{else}}y{{/if}} {{#each xs}}{{this}}{{/each}}')).not.toThrow();
    expect(() => checkTemplate('{{#if a}')).toThrow(TemplateSyntaxError);
  });

  it('cannot reach into prototypes', () => {
    expect(missingIn('{{constructor.name}}', {})).toBe('constructor.name');
  });
});
