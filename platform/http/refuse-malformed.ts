import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { InvalidInputError, type InputIssue } from '../../core/index.ts';
import type { AppEnv } from './app-env.ts';

/**
 * Refuses, before any route sees them, requests that would otherwise be quietly reinterpreted:
 * - a path with a dot segment (`..`, `.`, or their percent-encoded forms): the WHATWG URL parser that
 *   builds the request resolves `/remote/%2e%2e/reservations` to `/reservations`, so the route that
 *   answers is not the one the caller named. The raw path (as received by Node) is checked.
 * - a NUL character (`%00`) anywhere in the path or query, or a path segment whose percent-encoding is
 *   not UTF-8 (`%ff`): decoding it for a route parameter would fail as an internal error;
 * - a JSON body that is not valid UTF-8 (decoding would store replacement characters), or that holds a
 *   NUL character in a string or a key (PostgreSQL cannot store it in text, and no field of the API
 *   needs it): 400 naming the field as the schema errors do (`json:items.2.name`).
 * Bodies that are not JSON (uploads) and those of paths `skipBody` names (streamed) are passed through unread.
 */
export function refuseMalformed(options: { skipBody?: (path: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
  const skip = options.skipBody ?? (() => false);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return async (c, next) => {
    checkTarget(rawTarget(c.env as { incoming?: IncomingMessage } | undefined) ?? requestTarget(c.req.url));
    if (isJson(c.req.header('Content-Type') ?? '') && !skip(c.req.path)) {
      // Hono keeps the bytes read here for the route's validator (`c.req.json()` reads the cache).
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        throw new InvalidInputError('the request body is not valid UTF-8', [{ path: 'json', message: 'invalid UTF-8 byte sequence' }]);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined; // malformed JSON is the validator's to report
      }
      const issues = nulCharacters(parsed);
      if (issues.length) {
        throw new InvalidInputError(`the request body holds a NUL character (\\u0000): ${issues.map((i) => i.path).join(', ')}`, issues);
      }
    }
    await next();
  };
}

/** A URL's path and query (already resolved by the URL parser: the fallback without Node's request). */
function requestTarget(url: string): string {
  const { pathname, search } = new URL(url);
  return pathname + search;
}

/** The request target exactly as the client sent it, when served by Node (undefined in `app.request()`). */
function rawTarget(env: { incoming?: IncomingMessage } | undefined): string | undefined {
  const url = env?.incoming?.url;
  return typeof url === 'string' ? url : undefined;
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

function checkTarget(target: string): void {
  const queryAt = target.indexOf('?');
  const path = queryAt < 0 ? target : target.slice(0, queryAt);
  const nul = (part: string) => /%00/i.test(part) || part.includes('\u0000');
  if (nul(target)) {
    throw new InvalidInputError('the request URL holds a NUL character (%00)', [{ path: nul(path) ? 'path' : 'query', message: 'NUL character' }]);
  }
  for (const part of path.split('/')) {
    try {
      decodeURIComponent(part);
    } catch {
      throw new InvalidInputError(`the request path segment "${part.slice(0, 100)}" is not valid percent-encoded UTF-8`, [{ path: 'path', message: 'invalid percent-encoding' }]);
    }
  }
  const segment = path.split('/').find((s) => DOT_SEGMENT.test(s));
  if (segment !== undefined) {
    throw new InvalidInputError(`the request path has a dot segment ("${segment}"): name the resource itself`, [{ path: 'path', message: `dot segment "${segment}"` }]);
  }
}

const isJson = (type: string) => /^application\/(?:[\w.+-]+\+)?json\b/i.test(type.trim());

interface Visit {
  value: unknown;
  key?: string;
  parent?: Visit;
}

/** Every string value or key holding U+0000, by its path in the document (iterative: any depth). */
function nulCharacters(document: unknown): InputIssue[] {
  const found: InputIssue[] = [];
  const pathOf = (visit: Visit) => {
    const keys: string[] = [];
    for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
    return `json${keys.length ? `:${keys.join('.')}` : ''}`;
  };
  const pending: Visit[] = [{ value: document }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    const { value } = visit;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push({ path: pathOf(visit), message: 'NUL character (\\u0000) in a string' });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, key: String(index), parent: visit }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000')) found.push({ path: pathOf(visit), message: `NUL character (\\u0000) in the key "${key.replaceAll('\u0000', '\\u0000')}"` });
        pending.push({ value: item, key, parent: visit });
      }
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}
