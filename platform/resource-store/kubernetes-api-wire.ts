import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConflictError, InvalidInputError, NotFoundError, isArchipelError, type Resource } from '../../core/index.ts';
import type { ResourceIssue } from './crd-schemas.ts';

// Test support for the Kubernetes API double: requests, responses and `Status` bodies on the wire.

const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** `/apis/{group}/{version}/namespaces/{namespace}/{plural}[/{name}[/status]]` */
export const PATH = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+)(?:\/(status))?)?$/;
/** `/api/v1/nodes[/{name}]` */
export const NODES_PATH = /^\/api\/v1\/nodes(?:\/([^/]+))?$/;
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** A failure answered with this code and reason, as the API server words it. */
export class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly reason = REASONS[code] ?? 'Unknown',
  ) {
    super(message);
  }
}

/** An error as the API server's `Status` object. */
export function statusBody(error: unknown) {
  let code = 500;
  let reason = 'InternalError';
  let message = error instanceof Error ? error.message : String(error);
  let details: Record<string, unknown> | undefined;
  if (error instanceof HttpError) {
    ({ code, reason } = error);
    details = error.details;
  } else if (isArchipelError(error)) {
    const info = error.details as { reason?: string; name?: string; group?: string; kind?: string; issues?: ResourceIssue[] };
    if (error instanceof NotFoundError) [code, reason] = [404, 'NotFound'];
    else if (error instanceof ConflictError) [code, reason] = [409, info.reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict'];
    else if (error instanceof InvalidInputError && info.reason === 'Invalid') [code, reason] = [422, 'Invalid'];
    else if (error instanceof InvalidInputError) [code, reason] = [400, 'BadRequest'];
    if (info.name !== undefined) details = { name: info.name, group: info.group, kind: info.kind };
    if (code === 422) {
      details = {
        ...details,
        causes: (info.issues ?? []).map((issue) => ({ reason: issue.reason, message: issue.message, field: issue.path })),
      };
    }
  } else {
    message = `Internal error occurred: ${message}`;
  }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function readJson(req: IncomingMessage, optional = false): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request entity too large: limit is 3145728');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '' && optional) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `the object provided is unrecognized: ${(error as Error).message}`);
  }
}

export function requireKind(body: unknown): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the object provided is unrecognized');
  const object = body as Resource;
  if (!object.kind) throw new HttpError(400, `Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  if (!object.apiVersion) throw new HttpError(400, `Object 'apiVersion' is missing in '${JSON.stringify(body)}'`);
  return object;
}

/** Equality-based requirements: `a=b`, `a==b`, `a!=b`, `a`, `!a`. */
export function parseSelector(text: string | null): (object: Resource) => boolean {
  const requirements = (text ?? '').split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const m = /^(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(part);
    if (!m) throw new HttpError(400, `unable to parse requirement: ${JSON.stringify(part)}`);
    const [, not, labelKey, op, value] = m;
    return (labels: Record<string, string>) => {
      const has = Object.hasOwn(labels, labelKey!);
      if (!op) return not ? !has : has;
      return op === '!=' ? labels[labelKey!] !== value : labels[labelKey!] === value;
    };
  });
  return (object) => requirements.every((matches) => matches(object.metadata.labels ?? {}));
}
