/**
 * Checks docker-compose.yml where no Docker runs: against the Compose Specification's JSON schema
 * (vendored beside this file, see SOURCE.md), and against the rule that one image is built once.
 *   npm run -s compose:check
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import draft07MetaSchema from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { parse } from 'yaml';

const composeSpecSchema = JSON.parse(
  readFileSync(fileURLToPath(new URL('./compose-spec.json', import.meta.url)), 'utf8'),
);

// Union types and type-less object keywords are plain draft-07, which the schema uses freely; Ajv's
// strict mode would only warn of them. Unknown keywords still stop compilation.
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
// The schema names draft-07 by its https URL; Ajv knows that meta-schema by its http one. Under
// the name the schema uses, so the schema itself is checked against draft-07 before it is used.
ajv.addMetaSchema({ ...draft07MetaSchema, $id: composeSpecSchema.$schema });
const validateComposeFile = ajv.compile(composeSpecSchema);

interface ServiceDefinition {
  build?: unknown;
  image?: string;
  pull_policy?: string;
}

/**
 * Why one image would be built more than once, or pulled where it is only ever built here. Compose
 * builds every service with a `build` section, in parallel through bake, so two that build one tag
 * fail on a machine that has never built it. A service that runs a tag another service builds must
 * not try a registry for it either.
 */
export function imageBuildProblems(services: Record<string, ServiceDefinition>): string[] {
  const problems: string[] = [];
  const builders = Object.entries(services).filter(([, service]) => service.build !== undefined);
  if (builders.length !== 1) {
    const names = builders.map(([name]) => name).join(', ') || 'none';
    problems.push(`exactly one service must build the image; these build: ${names}`);
  }
  for (const [builder, definition] of builders) {
    if (!definition.image) {
      problems.push(`service '${builder}' builds an image with no name, which no other service can run`);
      continue;
    }
    for (const [name, service] of Object.entries(services)) {
      if (service.image !== definition.image || service.build !== undefined) continue;
      if (service.pull_policy !== 'never') {
        problems.push(
          `service '${name}' runs ${definition.image}, which '${builder}' builds, so it needs pull_policy: never`,
        );
      }
    }
  }
  return problems;
}

/** Everything wrong with a compose file's text; empty when it is valid and builds its image once. */
export function composeFileProblems(text: string): string[] {
  let document: unknown;
  try {
    // Compose files use YAML merge keys (`<<: *anchor`), which YAML 1.2 leaves out by default.
    document = parse(text, { merge: true });
  } catch (error) {
    return [`not YAML: ${(error as Error).message}`];
  }
  if (!validateComposeFile(document)) {
    return (validateComposeFile.errors ?? []).map(
      (error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}${paramsText(error.params)}`,
    );
  }
  const services = (document as { services?: Record<string, ServiceDefinition> }).services ?? {};
  return imageBuildProblems(services);
}

function paramsText(params: Record<string, unknown>): string {
  const detail = params.additionalProperty ?? params.allowedValues ?? params.missingProperty;
  return detail === undefined ? '' : ` (${JSON.stringify(detail)})`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? 'docker-compose.yml';
  const problems = composeFileProblems(readFileSync(file, 'utf8'));
  if (problems.length > 0) {
    console.error(`${file} is not a valid compose file that builds its image once:`);
    for (const problem of problems) console.error(`  ${problem}`);
    process.exit(1);
  }
  console.log(`${file} matches the Compose Specification and builds its image once`);
}
