import { z } from 'zod';

/**
 * A query parameter holding a comma-separated list of enum values (`status=received,acknowledged`),
 * parsed to an array; an unknown value is a validation error naming it and the allowed ones.
 */
export function commaSeparatedEnum<T extends string>(values: readonly [T, ...T[]], name: string) {
  return z
    .string()
    .max(500)
    .transform((raw, ctx) => {
      const items = raw.split(',').map((item) => item.trim());
      const unknown = items.find((item) => !(values as readonly string[]).includes(item));
      if (unknown !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown ${name} '${unknown}'; expected one of ${values.join(', ')}`,
        });
        return z.NEVER;
      }
      return items as T[];
    })
    .describe(`Comma-separated; any of ${values.join(', ')}`);
}
