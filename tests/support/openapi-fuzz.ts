import type { seededRandom } from './seeded-random.ts';

/**
 * Request generation for the API fuzz test, from the node's own OpenAPI document: every operation it
 * lists is exercised, so a new endpoint is covered without new test code.
 */

type Random = ReturnType<typeof seededRandom>;
export type JsonSchema = Record<string, unknown>;
type OpenApiDocument = { paths: Record<string, Record<string, OpenApiOperation>>; components?: { schemas?: Record<string, JsonSchema> } };
interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  security?: unknown[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

export interface Operation {
  method: string;
  /** The templated path, `/api/v1/runs/{id}`. */
  path: string;
  pathParameters: string[];
  query: OpenApiParameter[];
  /** The JSON body's schema (resolved against the document), or the body's media type when not JSON. */
  jsonBody?: JsonSchema;
  rawBody?: string;
  secured: boolean;
  /** The media type of its success answer. */
  answers: string | undefined;
  /** The statuses its documentation lists. */
  statuses: number[];
}

export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      const success = Object.entries(op.responses ?? {}).find(([status]) => status.startsWith('2'))?.[1];
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParameters: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        query: (op.parameters ?? []).filter((p) => p.in === 'query'),
        ...(content['application/json']?.schema ? { jsonBody: content['application/json'].schema } : {}),
        ...(!content['application/json'] && Object.keys(content)[0] ? { rawBody: Object.keys(content)[0] } : {}),
        secured: !(Array.isArray(op.security) && op.security.length === 0),
        answers: Object.keys(success?.content ?? {})[0],
        statuses: Object.keys(op.responses ?? {}).map(Number),
      });
    }
  }
  return operations;
}

/** Path segments as an attacker writes them (sent verbatim, percent-encoding included). */
const NASTY_SEGMENTS = [
  'x',
  '%2e%2e',
  '%2E%2e%2F..',
  '00000000-0000-0000-0000-000000000000',
  '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  'a'.repeat(300),
  '%27%20OR%201%3D1%20--',
  '%F0%9F%98%80',
  '%00',
  '%ff%fe',
  '-1',
  '12D3KooWA1b2C3d4E5f6G7h8J9k1L2m3N4p5Q6r7S8t9U1v2W3x4',
  'admin',
  '%20',
];

/** Values that stand where any JSON value is expected. */
const NASTY_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  1e308,
  -2147483649,
  '',
  ' ',
  'x'.repeat(70_000),
  '../../etc/passwd',
  "'; DROP TABLE users; --",
  'nul\u0000byte',
  '\ud83d\ude00',
  '\ud800',
  '<script>alert(1)</script>',
  '$(rm -rf /)',
  {},
  [],
  [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
  JSON.parse('{"__proto__": {"isAdmin": true}}'),
  { constructor: { prototype: { isAdmin: true } } },
];

const QUERY_VALUES = ['', 'x', '-1', '0', '99999999999999999999', 'true', '%00', '%ff', 'a'.repeat(5000), 'Running', '%27%22', 'key%3Dvalue', '%2e%2e'];

function resolve(document: OpenApiDocument, schema: JsonSchema | undefined, depth = 0): JsonSchema {
  if (!schema || depth > 20) return {};
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    return resolve(document, document.components?.schemas?.[ref.slice('#/components/schemas/'.length)], depth + 1);
  }
  return schema;
}

/** A value that fits `schema` as far as a simple reading goes (the base that mutations then break). */
function plausible(document: OpenApiDocument, raw: JsonSchema | undefined, random: Random, depth = 0): unknown {
  const schema = resolve(document, raw);
  if (depth > 6) return null;
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alternatives?.length) return plausible(document, random.pick(alternatives), random, depth + 1);
  if (Array.isArray(schema.allOf) && schema.allOf.length) return plausible(document, schema.allOf[0] as JsonSchema, random, depth + 1);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return random.pick(schema.enum as unknown[]);
  const type = Array.isArray(schema.type) ? random.pick(schema.type as string[]) : schema.type;
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      const value: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(properties)) {
        if (required.has(key) || random.next() < 0.5) value[key] = plausible(document, property, random, depth + 1);
      }
      return value;
    }
    case 'array':
      return Array.from({ length: random.int(3) }, () => plausible(document, schema.items as JsonSchema, random, depth + 1));
    case 'integer':
      return typeof schema.minimum === 'number' ? schema.minimum : random.int(10);
    case 'number':
      return random.next() * 10;
    case 'boolean':
      return random.next() < 0.5;
    case 'string':
      if (schema.format === 'uuid') return '3fa85f64-5717-4562-b3fc-2c963f66afa6';
      if (schema.format === 'date-time') return new Date(Date.UTC(2030, 0, 1)).toISOString();
      return `fuzz${random.int(1000)}`;
    default:
      return random.pick(NASTY_VALUES);
  }
}

/** Replaces one value somewhere in `value` by a nasty one, drops a field, or adds an unknown one. */
function mutate(value: unknown, random: Random): unknown {
  const choice = random.int(4);
  if (choice === 0 || value === null || typeof value !== 'object') return random.pick(NASTY_VALUES);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (choice === 1 && keys.length) {
    const key = random.pick(keys);
    (copy as Record<string, unknown>)[key] = mutate((copy as Record<string, unknown>)[key], random);
  } else if (choice === 2 && keys.length && !Array.isArray(copy)) {
    delete copy[random.pick(keys)];
  } else if (!Array.isArray(copy)) {
    copy[random.pick(['isAdmin', 'id', 'owner', 'zzz', 'createdAt', 'requester', 'cluster'])] = random.pick(NASTY_VALUES);
  } else {
    copy.push(random.pick(NASTY_VALUES));
  }
  return copy;
}

export interface FuzzRequest {
  method: string;
  /** The request target as sent, verbatim. */
  target: string;
  contentType?: string;
  body?: Buffer;
}

/** One malformed (or, by chance, well-formed) request to `operation`. */
export function fuzzRequest(document: OpenApiDocument, operation: Operation, random: Random): FuzzRequest {
  let target = operation.path;
  for (const name of operation.pathParameters) target = target.replace(`{${name}}`, random.pick(NASTY_SEGMENTS));
  const query = operation.query
    .filter(() => random.next() < 0.6)
    .map((p) => `${encodeURIComponent(p.name)}=${random.next() < 0.3 ? encodeURIComponent(String(plausible(document, p.schema, random))) : random.pick(QUERY_VALUES)}`);
  if (random.next() < 0.2) query.push(`${random.pick(['__proto__', 'zzz', 'limit', 'cursor'])}=${random.pick(QUERY_VALUES)}`);
  if (query.length) target += `?${query.join('&')}`;
  if (operation.jsonBody) {
    const form = random.int(10);
    if (form === 0) return { method: operation.method, target, contentType: 'application/json', body: Buffer.from('{"unterminated": ') };
    if (form === 1) return { method: operation.method, target, contentType: 'application/json', body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) };
    if (form === 2) return { method: operation.method, target, contentType: 'text/plain', body: Buffer.from('{}') };
    const base = plausible(document, operation.jsonBody, random);
    const body = form === 3 ? base : mutate(base, random);
    return { method: operation.method, target, contentType: 'application/json', body: Buffer.from(JSON.stringify(body) ?? 'null') };
  }
  if (operation.rawBody) {
    const bytes = Buffer.from(Array.from({ length: random.int(64) }, () => random.int(256)));
    return { method: operation.method, target, contentType: random.next() < 0.8 ? operation.rawBody : 'application/json', body: bytes };
  }
  return { method: operation.method, target };
}

/** The path of an operation with every parameter filled in with a plain value. */
export function plainTarget(operation: Operation): string {
  return operation.pathParameters.reduce((path, name) => path.replace(`{${name}}`, name === 'clusterId' ? NASTY_SEGMENTS[11]! : '3fa85f64-5717-4562-b3fc-2c963f66afa6'), operation.path);
}
