import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { load } from 'js-yaml';
import {
  InternalError,
  InvalidInputError,
  RESOURCE_KINDS,
  type InputIssue,
  type Resource,
  type ResourceKind,
} from '../../core/index.ts';

/**
 * The CRDs of `manifests/crds/`, read once per store, and validation of objects against them the way
 * the Kubernetes API server does it: unknown fields pruned, defaults applied, nulls of non-nullable fields
 * dropped, then the OpenAPI v3 schema checked, with the API server's field paths and messages. Both
 * adapters and the Kubernetes API double use it, so they reject the same objects with the same issues.
 */
export const DEFAULT_CRD_DIR = fileURLToPath(new URL('../../manifests/crds/', import.meta.url));

/** A field problem as the API server reports it (`reason` is its cause type). */
export interface ResourceIssue extends InputIssue {
  reason: string;
}

export interface ResourceDefinition {
  kind: ResourceKind;
  group: string;
  version: string;
  apiVersion: string;
  plural: string;
  listKind: string;
}

export interface ResourceSchemas {
  definition(kind: string): ResourceDefinition;
  forPlural(plural: string): ResourceDefinition | undefined;
  /**
   * A pruned and defaulted copy of `object` and what is wrong with it: metadata (name, labels,
   * annotations) and the kind's schema. apiVersion, kind, namespace and resourceVersion are the request
   * rules' business (`api-semantics.ts`).
   */
  conform(kind: ResourceKind, object: unknown): { object: Resource; issues: ResourceIssue[] };
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface Crd {
  spec?: {
    group?: string;
    names?: { kind?: string; plural?: string; listKind?: string };
    versions?: { name?: string; storage?: boolean; schema?: { openAPIV3Schema?: JsonSchema } }[];
  };
}

const KUBERNETES_KEYWORDS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = formatsModule.default;

export function loadResourceSchemas(dir: string = DEFAULT_CRD_DIR): ResourceSchemas {
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  ajv.addVocabulary(KUBERNETES_KEYWORDS);
  addFormats(ajv);
  const kinds = new Map<string, { definition: ResourceDefinition; schema: JsonSchema; validate: ValidateFunction }>();
  for (const file of readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort()) {
    const { definition, schema } = readCrd(join(dir, file));
    kinds.set(definition.kind, { definition, schema, validate: ajv.compile(schema) });
  }
  const missing = RESOURCE_KINDS.filter((kind) => !kinds.has(kind));
  if (missing.length) throw new InternalError(`no CRD for ${missing.join(', ')} in ${dir}`);

  const entry = (kind: string) => {
    const found = kinds.get(kind);
    if (!found) throw new InvalidInputError(`unknown kind ${JSON.stringify(kind)}`, [{ path: 'kind', message: `must be one of ${RESOURCE_KINDS.join(', ')}` }]);
    return found;
  };
  return {
    definition: (kind) => entry(kind).definition,
    forPlural: (plural) => [...kinds.values()].find((k) => k.definition.plural === plural)?.definition,
    conform(kind, object) {
      const { schema, validate } = entry(kind);
      const copy = structuredClone(object) as Resource;
      const issues = metadataIssues(copy);
      prune(copy, schema);
      if (!validate(copy)) issues.push(...(validate.errors ?? []).filter((e) => !e.instancePath.startsWith('/metadata')).map(toIssue));
      return { object: copy, issues };
    },
  };
}

function readCrd(path: string): { definition: ResourceDefinition; schema: JsonSchema } {
  let crd: Crd;
  try {
    crd = load(readFileSync(path, 'utf8')) as Crd;
  } catch (error) {
    throw new InternalError(`cannot read the CRD ${path}`, { cause: error });
  }
  const { group, names, versions } = crd.spec ?? {};
  const version = versions?.find((v) => v.storage) ?? versions?.[0];
  const schema = version?.schema?.openAPIV3Schema;
  if (!group || !names?.kind || !names.plural || !version?.name || !schema) {
    throw new InternalError(`${path} is not a CRD with a group, names, a version and an openAPIV3Schema`);
  }
  if (!(RESOURCE_KINDS as readonly string[]).includes(names.kind)) throw new InternalError(`${path}: unknown kind ${names.kind}`);
  return {
    definition: {
      kind: names.kind as ResourceKind,
      group,
      version: version.name,
      apiVersion: `${group}/${version.name}`,
      plural: names.plural,
      listKind: names.listKind ?? `${names.kind}List`,
    },
    schema,
  };
}

/** In place, as the API server does before validating: unknown fields go, defaults come, nulls go. */
function prune(value: unknown, schema: JsonSchema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) prune(item, schema.items);
    return;
  }
  if (typeof value !== 'object' || value === null || schema['x-kubernetes-preserve-unknown-fields']) return;
  const object = value as Record<string, unknown>;
  if (schema.properties) {
    for (const key of Object.keys(object)) if (!(key in schema.properties)) delete object[key];
    for (const [key, property] of Object.entries(schema.properties)) {
      if (object[key] === null && !property.nullable) delete object[key];
      if (object[key] === undefined && property.default !== undefined) object[key] = structuredClone(property.default);
      if (object[key] !== undefined) prune(object[key], property);
    }
  } else if (typeof schema.additionalProperties === 'object') {
    for (const item of Object.values(object)) prune(item, schema.additionalProperties);
  }
}

// metadata.name of a custom resource: a DNS subdomain (RFC 1123).
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function metadataIssues(object: Resource): ResourceIssue[] {
  const metadata = (object as { metadata?: unknown }).metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return [{ path: 'metadata', reason: 'FieldValueRequired', message: 'Required value' }];
  }
  const issues: ResourceIssue[] = [];
  const { name, labels, annotations } = metadata as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') {
    issues.push({ path: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' });
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    issues.push({
      path: 'metadata.name',
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  issues.push(...mapIssues('metadata.labels', labels, true), ...mapIssues('metadata.annotations', annotations, false));
  return issues;
}

/** An equality-based label selector: label keys and values. */
export function labelSelectorIssues(selector: unknown): ResourceIssue[] {
  return mapIssues('labelSelector', selector, true);
}

/** Label and annotation keys: `[prefix/]name`; label values: at most 63 characters of the name alphabet. */
function mapIssues(path: string, map: unknown, isLabels: boolean): ResourceIssue[] {
  if (map === undefined) return [];
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    return [{ path, reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be a map of strings' }];
  }
  const issues: ResourceIssue[] = [];
  for (const [key, value] of Object.entries(map)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = key.slice(slash + 1);
    if (name.length > 63 || !QUALIFIED_NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))) {
      issues.push({
        path,
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(key)}: a qualified name must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric, with an optional DNS subdomain prefix and '/'`,
      });
    }
    if (typeof value !== 'string') {
      issues.push({ path: `${path}.${key}`, reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be a string' });
    } else if (isLabels && (value.length > 63 || !LABEL_VALUE.test(value))) {
      issues.push({
        path,
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(value)}: a valid label value must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`,
      });
    }
  }
  return issues;
}

/** An ajv error as the API server words it: `spec.sequence: Invalid value: "string": ...`. */
function toIssue(error: ErrorObject): ResourceIssue {
  const params = error.params as Record<string, unknown>;
  let path = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), '');
  const value: unknown = error.data;
  const shown = JSON.stringify(value);
  const where = `${path || '<root>'} in body`;
  switch (error.keyword) {
    case 'required':
      path = path ? `${path}.${String(params.missingProperty)}` : String(params.missingProperty);
      return { path, reason: 'FieldValueRequired', message: 'Required value' };
    case 'enum':
      return {
        path,
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: ${shown}: supported values: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'type':
      return { path, reason: 'FieldValueTypeInvalid', message: `Invalid value: "${typeName(value)}": ${where} must be of type ${String(params.type)}: "${typeName(value)}"` };
    case 'format':
      return { path, reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${where} must be of type ${String(params.format)}: ${shown}` };
    case 'pattern':
      return { path, reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${where} should match '${String(params.pattern)}'` };
    case 'minimum':
      return { path, reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${where} should be greater than or equal to ${String(params.limit)}` };
    case 'maximum':
      return { path, reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${where} should be less than or equal to ${String(params.limit)}` };
    case 'minLength':
      return { path, reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${where} should be at least ${String(params.limit)} chars long` };
    case 'maxLength':
      return { path, reason: 'FieldValueTooLong', message: `Too long: may not be longer than ${String(params.limit)}` };
    case 'maxItems':
      return { path, reason: 'FieldValueTooMany', message: `Too many: ${(value as unknown[]).length}: must have at most ${String(params.limit)} items` };
    default:
      return { path, reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${where} ${error.message ?? 'is invalid'}` };
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** The API server's 422: `Peer.archipel.io "a" is invalid: status.state: Unsupported value: ...`. */
export function invalidResource(definition: ResourceDefinition, name: unknown, issues: ResourceIssue[]): InvalidInputError {
  const list = issues.map((issue) => `${issue.path}: ${issue.message}`);
  const shown = typeof name === 'string' ? name : '';
  return new InvalidInputError(`${definition.kind}.${definition.group} ${JSON.stringify(shown)} is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`, issues, {
    details: { reason: 'Invalid', name: shown, group: definition.group, kind: definition.kind },
  });
}
