/**
 * Validates asyncapi.yaml with the AsyncAPI project's own parser (@asyncapi/parser, its Spectral
 * rulesets included): any error or warning fails, and so does a document it cannot parse.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';

const path = fileURLToPath(new URL('../../asyncapi.yaml', import.meta.url));
const { document, diagnostics } = await new Parser().parse(await readFile(path, 'utf8'), { source: path });
const problems = diagnostics.filter(
  (diagnostic) =>
    diagnostic.severity === DiagnosticSeverity.Error || diagnostic.severity === DiagnosticSeverity.Warning,
);
for (const problem of diagnostics) {
  const level = DiagnosticSeverity[problem.severity] ?? problem.severity;
  console.log(`${level} ${problem.code} at ${problem.path.join('.') || '(root)'}: ${problem.message}`);
}
if (!document || problems.length > 0) {
  console.error(`asyncapi.yaml: ${problems.length} errors or warnings`);
  process.exit(1);
}
console.log(
  `asyncapi.yaml is valid AsyncAPI ${document.version()}: ${document.allMessages().length} messages, ` +
    `${document.operations().length} operations`,
);
