import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ERROR_CODES } from '../src/lib/errors.js';

/**
 * The committed openapi.yaml says exactly what the server does, in the ways generated clients and
 * linters read it (the through-the-app half is test/http-contract.test.ts).
 */

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Json }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, Json>;
}
const contract = parse(await readFile(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; headers: Record<string, Json> };
};
const operations = Object.entries(contract.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
);

describe('openapi.yaml', () => {
  it('lists every error code the server can send as the enum of Problem.code, from the one list', () => {
    const properties = contract.components.schemas.Problem?.properties as Record<string, Json> | undefined;
    const code = properties?.code;
    expect(code?.enum).toEqual([...ERROR_CODES]);
  });

  it('declares security on every operation and webhook, public ones as []', () => {
    const webhooks = Object.values(contract.webhooks).flatMap((item) => Object.values(item));
    const unsecured = [...operations.map((o) => o.operation), ...webhooks]
      .filter((operation) => !Array.isArray(operation.security))
      .map((operation) => operation.operationId);
    expect(unsecured).toEqual([]);
    const publicOps = operations.filter((o) => o.operation.security?.length === 0).map((o) => o.path);
    expect(publicOps.sort()).toEqual(['/healthz', '/metrics', '/readyz']);
  });

  it('has no unused schema and no request twin identical to its answer schema', () => {
    const text = JSON.stringify({ paths: contract.paths, webhooks: contract.webhooks });
    const reached = new Set<string>();
    const visit = (json: string) => {
      for (const [, name] of json.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
        if (name && !reached.has(name)) {
          reached.add(name);
          visit(JSON.stringify(contract.components.schemas[name]));
        }
      }
    };
    visit(text);
    expect(Object.keys(contract.components.schemas).filter((name) => !reached.has(name))).toEqual([]);
    const twins = Object.keys(contract.components.schemas).filter((name) => {
      const plain = contract.components.schemas[name.replace(/Input$/, '')];
      return (
        name.endsWith('Input') &&
        plain &&
        JSON.stringify(plain) === JSON.stringify(contract.components.schemas[name])
      );
    });
    expect(twins).toEqual([]);
  });

  it('requires If-Match wherever the server answers 428 without it', () => {
    const wrong = operations
      .filter(({ operation }) => operation.responses['428'])
      .filter(
        ({ operation }) => !operation.parameters?.some((p) => p.name === 'if-match' && p.required === true),
      )
      .map(({ operation }) => operation.operationId);
    expect(wrong).toEqual([]);
    expect(operations.filter(({ operation }) => operation.responses['428']).length).toBeGreaterThan(4);
  });

  it('takes JSON Merge Patch on every PATCH', () => {
    const patches = operations.filter(({ method }) => method === 'patch');
    expect(patches.length).toBeGreaterThan(0);
    for (const { operation } of patches) {
      expect(Object.keys(operation.requestBody?.content ?? {}), operation.operationId).toEqual([
        'application/json',
        'application/merge-patch+json',
      ]);
    }
  });

  it('declares list filters as arrays of their enum', () => {
    const list = operations.find(({ operation }) => operation.operationId === 'listComplaints')?.operation;
    const status = list?.parameters?.find((p) => p.name === 'status');
    expect(status?.schema).toMatchObject({
      type: 'array',
      items: { enum: expect.arrayContaining(['received']) },
    });
  });

  it('declares ETag, Location and the rate-limit headers on a create, and 304 on reads with an ETag', () => {
    const create = operations.find(({ operation }) => operation.operationId === 'createComplaint')?.operation;
    expect(Object.keys(create?.responses['201']?.headers as Json)).toEqual(
      expect.arrayContaining([
        'ETag',
        'Location',
        'Idempotent-Replayed',
        'X-Request-Id',
        'X-RateLimit-Remaining',
      ]),
    );
    expect(Object.keys(create?.responses['429']?.headers as Json)).toContain('Retry-After');
    const reads = operations.filter(
      ({ method, operation }) => method === 'get' && operation.responses['200']?.headers,
    );
    for (const { operation } of reads) {
      const sendsEtag = Object.keys(operation.responses['200']?.headers as Json).includes('ETag');
      expect(Boolean(operation.responses['304']), operation.operationId).toBe(sendsEtag);
    }
  });
});
