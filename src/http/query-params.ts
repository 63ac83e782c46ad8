import { z } from 'zod';

/** Most values one list filter takes: every enum Redress filters on is far shorter. */
const MAX_FILTER_VALUES = 50;

/**
 * A query parameter holding a list of enum values, parsed to an array. Both serializations a
 * client may use are taken: the parameter repeated (`status=received&status=acknowledged`, what
 * OpenAPI's default `style: form, explode: true` and generated clients send) and comma-separated
 * (`status=received,acknowledged`), or a mix. An unknown value is a validation error on the
 * parameter itself, naming the value and the allowed ones. The contract shows an array of the enum.
 */
export function commaSeparatedEnum<T extends string>(values: readonly [T, ...T[]], name: string) {
  return z.preprocess(
    (raw, ctx) => {
      if (typeof raw !== 'string' && !Array.isArray(raw)) return raw;
      const items = [raw]
        .flat()
        .flatMap((item) => (typeof item === 'string' ? item.split(',') : [item]))
        .map((item) => (typeof item === 'string' ? item.trim() : item));
      const unknown = items.find((item) => !(values as readonly unknown[]).includes(item));
      if (unknown !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown ${name} '${String(unknown).slice(0, 100)}'; expected one of ${values.join(', ')}`,
        });
        return z.NEVER;
      }
      return items;
    },
    z
      .array(z.enum(values))
      .max(MAX_FILTER_VALUES)
      .describe(
        `Any of ${values.join(', ')}: repeat the parameter (\`${name}=${values[0]}&${name}=…\`) or separate values with commas.`,
      ),
  );
}
