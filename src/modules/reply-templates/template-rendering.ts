import Handlebars from 'handlebars';

/**
 * Reply templates are Handlebars, run strict: a variable with no value is an error naming it, never
 * a blank in a letter to a customer (a section is optional only when the template says so, with
 * `{{#if name}}…{{/if}}`). Output is plain text (no HTML escaping), and only the
 * built-in block helpers `if`, `unless`, `each` and `with` exist: `lookup` would read a missing
 * value as blank and `log` would write to the server log, so both are refused.
 */
const handlebars = Handlebars.create();
const OPTIONS: CompileOptions = {
  strict: true,
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: { lookup: false, log: false },
};

/** A template that does not compile, with the parser's explanation. */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

/** A variable the template uses and the context lacks; `variable` is its full path as written. */
export class MissingVariableError extends Error {
  override name = 'MissingVariableError';
  constructor(readonly variable: string) {
    super(`'${variable}' has no value`);
  }
}

/**
 * Refuses what compiles but cannot render safely: partials (a template has none to call) and an
 * `each` inside another, whose output multiplies: six nested over sixteen values rendered 16 MB
 * and held the API for seconds. One level of `each` is all a letter needs.
 */
function checkStructure(source: string): void {
  const visitor = new Handlebars.Visitor();
  let eachDepth = 0;
  let problem: string | undefined;
  const partial = () => {
    problem ??= 'partials ({{> name}}) are not available in reply templates';
  };
  visitor.PartialStatement = partial;
  visitor.PartialBlockStatement = partial;
  const visitBlock = Handlebars.Visitor.prototype.BlockStatement;
  visitor.BlockStatement = function (block: hbs.AST.BlockStatement) {
    const isEach =
      block.path.type === 'PathExpression' && (block.path as hbs.AST.PathExpression).original === 'each';
    if (isEach && eachDepth >= 1) problem ??= '{{#each}} cannot be nested inside another {{#each}}';
    if (isEach) eachDepth += 1;
    visitBlock.call(this, block);
    if (isEach) eachDepth -= 1;
  };
  visitor.accept(handlebars.parse(source));
  if (problem) throw new TemplateSyntaxError(problem);
}

/** Throws TemplateSyntaxError unless the source compiles under the rules above. */
export function checkTemplate(source: string): void {
  try {
    handlebars.precompile(source, OPTIONS);
  } catch (error) {
    throw new TemplateSyntaxError((error as Error).message.split('\n').join(' '));
  }
  checkStructure(source);
}

/** The dotted path written at a position, e.g. `customer.name`, from the template's syntax tree. */
function pathAt(source: string, line: number, column: number): string | undefined {
  let found: string | undefined;
  const visitor = new Handlebars.Visitor();
  visitor.PathExpression = (path: hbs.AST.PathExpression) => {
    if (path.loc.start.line === line && path.loc.start.column === column) found = path.original;
  };
  visitor.accept(handlebars.parse(source));
  return found;
}

const STRICT_MISS = /^"([^"]+)" not defined in/;

/** Renders a template against a context; throws MissingVariableError for a variable without a value. */
export function renderTemplate(source: string, context: Record<string, unknown>): string {
  try {
    return handlebars.compile(source, OPTIONS)(context);
  } catch (error) {
    const failure = error as Error & { lineNumber?: number; column?: number };
    const missing = STRICT_MISS.exec(failure.message);
    if (!missing) throw new TemplateSyntaxError(failure.message.split('\n').join(' '));
    const written =
      failure.lineNumber !== undefined && failure.column !== undefined
        ? pathAt(source, failure.lineNumber, failure.column)
        : undefined;
    throw new MissingVariableError(written ?? missing[1]!);
  }
}

/** A copy without null or undefined members, at any depth: an absent fact must stay missing. */
export function withoutBlanks(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === null || member === undefined) continue;
    out[key] =
      typeof member === 'object' && !Array.isArray(member) && !(member instanceof Date)
        ? withoutBlanks(member as Record<string, unknown>)
        : member;
  }
  return out;
}
