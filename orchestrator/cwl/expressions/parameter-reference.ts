import { ExpressionError } from './expression-error.ts';

/** The parameter context of CWL expressions: the roots a reference may start from. */
export interface ParameterContext {
  readonly inputs: unknown;
  readonly self: unknown;
  readonly runtime: unknown;
}

const ROOTS: ReadonlySet<string> = new Set(['inputs', 'self', 'runtime']);

/** A parsed parameter reference: `inputs.file['name'][0]` → root `inputs`, segments `file`, `name`, 0. */
export interface ParameterReference {
  readonly root: string;
  /** Field names (strings) and array/string indexes (numbers), in order. */
  readonly segments: readonly (string | number)[];
}

// CWL's `symbol` is "Unicode alphanumeric"; cwltool also accepts `_`, which real tools rely on.
const SYMBOL = /^[\p{L}\p{N}_]+/u;
const INDEX = /^\[(0|[1-9][0-9]*)\]/;

/**
 * Parses the inside of `$(...)` by the CWL grammar
 * `symbol ( .symbol | ['string'] | ["string"] | [index] )*`, or returns undefined when the code is
 * not a parameter reference (then it can only be JavaScript). Quoted keys accept the escapes `\\`,
 * `\'` and `\"`; any other escape is left to JavaScript, whose meaning for it differs.
 */
export function parseParameterReference(code: string): ParameterReference | undefined {
  const root = SYMBOL.exec(code)?.[0];
  if (root === undefined) return undefined;
  const segments: (string | number)[] = [];
  let rest = code.slice(root.length);
  while (rest) {
    if (rest[0] === '.') {
      const symbol = SYMBOL.exec(rest.slice(1))?.[0];
      if (symbol === undefined) return undefined;
      segments.push(symbol);
      rest = rest.slice(1 + symbol.length);
    } else if (rest.startsWith("['") || rest.startsWith('["')) {
      const quoted = readQuoted(rest);
      if (quoted === undefined) return undefined;
      segments.push(quoted.key);
      rest = rest.slice(quoted.length);
    } else {
      const index = INDEX.exec(rest);
      if (!index?.[1]) return undefined;
      segments.push(Number(index[1]));
      rest = rest.slice(index[0].length);
    }
  }
  return { root, segments };
}

/** `['key']` or `["key"]` at the start of `text`: the unescaped key and the length consumed. */
function readQuoted(text: string): { key: string; length: number } | undefined {
  const quote = text[1];
  let key = '';
  for (let j = 2; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') {
      const escaped = text[j + 1];
      if (escaped !== '\\' && escaped !== "'" && escaped !== '"') return undefined;
      key += escaped;
      j++;
    } else if (ch === quote) {
      return text[j + 1] === ']' ? { key, length: j + 2 } : undefined;
    } else {
      key += ch;
    }
  }
  return undefined;
}

/**
 * Resolves a parameter reference against the parameter context by the
 * CWL v1.2 algorithm: a field of an object must exist, an index must be in range of an array or
 * string, `.length` as the last segment of an array is its length, and `null` alone is null.
 * Anything else is an `ExpressionError` with reason `reference`. Returns the value itself, not a copy
 * (undefined, which JSON cannot hold, as null).
 */
export function resolveParameterReference(
  reference: ParameterReference,
  context: ParameterContext,
  source: string,
): unknown {
  const fail = (message: string) => new ExpressionError('reference', `${source}: ${message}`, source);
  if (reference.root === 'null') {
    if (reference.segments.length > 0) throw fail("'null' must be the only symbol of the reference");
    return null;
  }
  if (!ROOTS.has(reference.root)) throw fail(`'${reference.root}' is not defined`);
  let value: unknown = context[reference.root as keyof ParameterContext];
  let path = reference.root;
  const last = reference.segments.length - 1;
  for (const [position, key] of reference.segments.entries()) {
    if (typeof key === 'number') {
      if (!Array.isArray(value) && typeof value !== 'string') throw fail(`${path} is ${kindOf(value)}, not an array`);
      if (key >= value.length) throw fail(`${path} has no index ${key} (length ${value.length})`);
      value = value[key];
      path += `[${key}]`;
    } else if (Array.isArray(value) && key === 'length' && position === last) {
      return value.length;
    } else {
      if (!isRecord(value)) throw fail(`${path} is ${kindOf(value)}, it has no field '${key}'`);
      if (!Object.hasOwn(value, key)) throw fail(`${path} has no field '${key}'`);
      value = value[key];
      path += /^[\p{L}\p{N}_]+$/u.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return value === undefined ? null : value; // as JSON would carry it
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
