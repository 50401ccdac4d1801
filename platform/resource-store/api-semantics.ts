import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  type Resource,
  type ResourceMetadata,
} from '../../core/index.ts';
import { invalidResource, type ResourceDefinition, type ResourceIssue, type ResourceSchemas } from './crd-schemas.ts';

/**
 * What the Kubernetes API server does with custom resources that have a status subresource, as pure
 * functions: the embedded store and the Kubernetes API double both follow them, so that the embedded node
 * behaves like a cluster. Errors carry the API server's messages and, in `details.reason`, its reason.
 */

/** RFC 3339 with second precision, as Kubernetes writes timestamps. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

export type Operation = 'create' | 'update' | 'status';

/**
 * A request body's identity, checked before anything else: an object, of this kind (apiVersion and kind
 * filled in when absent), in this namespace (filled in when absent), without a resourceVersion on create.
 * Returns a shallow copy with those filled in.
 */
export function checkRequest(definition: ResourceDefinition, body: unknown, namespace: string, operation: Operation): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError(`a ${definition.kind} must be an object`, [{ path: '', message: 'must be an object' }]);
  }
  const object = { ...(body as Resource) };
  const issues: { path: string; message: string }[] = [];
  object.apiVersion ??= definition.apiVersion;
  object.kind ??= definition.kind;
  if (object.apiVersion !== definition.apiVersion) issues.push({ path: 'apiVersion', message: `must be ${definition.apiVersion}` });
  if (object.kind !== definition.kind) issues.push({ path: 'kind', message: `must be ${definition.kind}` });
  if (typeof object.metadata === 'object' && object.metadata !== null) {
    object.metadata = { ...object.metadata };
    object.metadata.namespace ??= namespace;
    if (object.metadata.namespace !== namespace) {
      issues.push({ path: 'metadata.namespace', message: 'the namespace of the provided object does not match the namespace sent on the request' });
    }
    if (operation === 'create' && object.metadata.resourceVersion !== undefined) {
      issues.push({ path: 'metadata.resourceVersion', message: 'resourceVersion should not be set on objects to be created' });
    }
  }
  if (issues.length) throw new InvalidInputError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  return object;
}

/** Throws the API server's 422 when the object does not conform, else returns the pruned, defaulted copy. */
export function conformOrThrow(schemas: ResourceSchemas, definition: ResourceDefinition, object: Resource, only?: 'status'): Resource {
  const { object: conformed, issues } = schemas.conform(definition.kind, object);
  // A status write only changes the status: other problems are not its caller's.
  const relevant = only ? issues.filter((i) => i.path === only || i.path.startsWith(`${only}.`) || i.path.startsWith(`${only}[`)) : issues;
  if (relevant.length) throw invalidResource(definition, object.metadata?.name, relevant);
  return conformed;
}

export interface Stamp {
  uid: string;
  resourceVersion: string;
  now: Date;
}

/** The object a create stores: status dropped (status subresource), system fields assigned. */
export function createObject(schemas: ResourceSchemas, definition: ResourceDefinition, body: Resource, stamp: Stamp): Resource {
  const { status: _ignored, ...withoutStatus } = body;
  const conformed = conformOrThrow(schemas, definition, withoutStatus);
  return {
    ...conformed,
    metadata: {
      ...userMetadata(conformed.metadata),
      uid: stamp.uid,
      resourceVersion: stamp.resourceVersion,
      generation: 1,
      creationTimestamp: timestamp(stamp.now),
    },
  };
}

/**
 * The object an update (of the object, or of its status) leaves, still carrying the current
 * resourceVersion; undefined when nothing would change, which Kubernetes does not count as a write.
 */
export function updateObject(
  schemas: ResourceSchemas,
  definition: ResourceDefinition,
  current: Resource,
  body: Resource,
  operation: 'update' | 'status',
): Resource | undefined {
  const name = current.metadata.name;
  const given = body.metadata;
  if (given.name !== name) {
    throw invalidResource(definition, given.name, [issue('metadata.name', `Invalid value: ${JSON.stringify(given.name)}: field is immutable`)]);
  }
  if (!given.resourceVersion) {
    throw invalidResource(definition, name, [issue('metadata.resourceVersion', 'Invalid value: 0x0: must be specified for an update')]);
  }
  if (given.uid !== undefined && given.uid !== current.metadata.uid) {
    throw new ConflictError(
      `Operation cannot be fulfilled on ${resourceName(definition)} ${JSON.stringify(name)}: Precondition failed: UID in precondition: ${given.uid}, UID in object meta: ${current.metadata.uid}`,
      { details: errorDetails(definition, name, 'Conflict') },
    );
  }
  if (given.resourceVersion !== current.metadata.resourceVersion) throw conflict(definition, name);

  let next: Resource;
  if (operation === 'status') {
    const { status: _old, ...base } = current;
    next = conformOrThrow(schemas, definition, body.status === undefined ? base : { ...base, status: body.status }, 'status');
  } else {
    const { status: _ignored, ...rest } = body;
    const conformed = conformOrThrow(schemas, definition, { ...rest, metadata: { ...userMetadata(given), name } });
    next = { ...conformed, metadata: { ...current.metadata, ...userMetadata(conformed.metadata) } };
    if (current.status !== undefined) next.status = current.status;
    if (!sameJson(next.spec, current.spec)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
  }
  next.metadata = { ...next.metadata };
  for (const key of ['labels', 'annotations'] as const) if (operation === 'update' && given[key] === undefined) delete next.metadata[key];
  return sameJson(next, current) ? undefined : next;
}

/** A JSON merge patch (RFC 7386) applied to the current object; unconditional unless it names a version. */
export function patchedBody(current: Resource, patch: unknown): Resource {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new InvalidInputError('a merge patch must be a JSON object', [{ path: '', message: 'must be an object' }]);
  }
  return withCurrentVersion(current, mergePatch(current, patch) as Resource, patch as Resource);
}

/** After a patch, the version to check is the patch's own, if it gave one, else the current one. */
export function withCurrentVersion(current: Resource, patched: Resource, patch: Partial<Resource>): Resource {
  const metadata = (typeof patched.metadata === 'object' && patched.metadata !== null ? patched.metadata : {}) as ResourceMetadata;
  return { ...patched, metadata: { ...metadata, resourceVersion: patch.metadata?.resourceVersion ?? current.metadata.resourceVersion } };
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The deleted object as watchers see it: its last state at the deletion's version. */
export function deletedObject(current: Resource, resourceVersion: string): Resource {
  return { ...current, metadata: { ...current.metadata, resourceVersion } };
}

export function checkDeletePrecondition(definition: ResourceDefinition, current: Resource, resourceVersion: string | undefined): void {
  if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) {
    throw new ConflictError(
      `Operation cannot be fulfilled on ${resourceName(definition)} ${JSON.stringify(current.metadata.name)}: the ResourceVersion in the precondition (${resourceVersion}) does not match the ResourceVersion in record (${current.metadata.resourceVersion}). The object might have been modified`,
      { details: errorDetails(definition, current.metadata.name, 'Conflict') },
    );
  }
}

export function matchesLabels(object: Resource, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => object.metadata.labels?.[key] === value);
}

export function notFound(definition: ResourceDefinition, name: string): NotFoundError {
  return new NotFoundError(`${resourceName(definition)} ${JSON.stringify(name)} not found`, {
    details: errorDetails(definition, name, 'NotFound'),
  });
}

export function alreadyExists(definition: ResourceDefinition, name: string, cause?: unknown): ConflictError {
  return new ConflictError(`${resourceName(definition)} ${JSON.stringify(name)} already exists`, {
    cause,
    details: errorDetails(definition, name, 'AlreadyExists'),
  });
}

export function conflict(definition: ResourceDefinition, name: string): ConflictError {
  return new ConflictError(
    `Operation cannot be fulfilled on ${resourceName(definition)} ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
    { details: errorDetails(definition, name, 'Conflict') },
  );
}

/** `peers.archipel.io`, as the API server names a resource in its messages. */
export function resourceName(definition: ResourceDefinition): string {
  return `${definition.plural}.${definition.group}`;
}

function errorDetails(definition: ResourceDefinition, name: string, reason: string) {
  return { reason, name, group: definition.group, kind: definition.plural };
}

/** Only the fields a client may set; the system ones come from the store. */
function userMetadata(metadata: ResourceMetadata): ResourceMetadata {
  const result: ResourceMetadata = { name: metadata.name };
  if (metadata.namespace !== undefined) result.namespace = metadata.namespace;
  if (metadata.labels !== undefined) result.labels = metadata.labels;
  if (metadata.annotations !== undefined) result.annotations = metadata.annotations;
  return result;
}

function issue(path: string, message: string): ResourceIssue {
  return { path, message, reason: 'FieldValueInvalid' };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values, whatever the key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a).filter((key) => a[key] !== undefined);
  return keys.length === Object.keys(b).filter((key) => b[key] !== undefined).length && keys.every((key) => sameJson(a[key], b[key]));
}
