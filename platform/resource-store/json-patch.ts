/**
 * JSON Patch (RFC 6902), as the Kubernetes API double applies `application/json-patch+json` bodies.
 * Returns a new document; throws `JsonPatchError` when an operation does not apply.
 */
export class JsonPatchError extends Error {}

type Operation = { op: string; path: string; value?: unknown; from?: string };
type Container = Record<string, unknown> | unknown[];

export function applyJsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new JsonPatchError('a JSON patch must be an array of operations');
  let result = structuredClone(document);
  for (const operation of operations as Operation[]) {
    if (typeof operation !== 'object' || operation === null || typeof operation.path !== 'string') {
      throw new JsonPatchError('every operation needs an "op" and a "path"');
    }
    const { op, path } = operation;
    switch (op) {
      case 'add':
        result = add(result, path, structuredClone(required(operation)));
        break;
      case 'remove':
        result = remove(result, path).document;
        break;
      case 'replace':
        result = add(remove(result, path).document, path, structuredClone(required(operation)));
        break;
      case 'move': {
        const taken = remove(result, from(operation));
        result = add(taken.document, path, taken.value);
        break;
      }
      case 'copy':
        result = add(result, path, structuredClone(get(result, from(operation))));
        break;
      case 'test':
        if (JSON.stringify(get(result, path)) !== JSON.stringify(required(operation))) {
          throw new JsonPatchError(`testing value ${path} failed`);
        }
        break;
      default:
        throw new JsonPatchError(`unknown operation ${JSON.stringify(op)}`);
    }
  }
  return result;
}

function required(operation: Operation): unknown {
  if (!('value' in operation)) throw new JsonPatchError(`${operation.op} ${operation.path}: missing "value"`);
  return operation.value;
}

function from(operation: Operation): string {
  if (typeof operation.from !== 'string') throw new JsonPatchError(`${operation.op} ${operation.path}: missing "from"`);
  return operation.from;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function get(document: unknown, pointer: string): unknown {
  let current = document;
  for (const token of tokens(pointer)) {
    const container = asContainer(current, pointer);
    const key = Array.isArray(container) ? index(container, token, false, pointer) : token;
    if (!(key in container)) throw new JsonPatchError(`${pointer}: no such path`);
    current = (container as Record<string | number, unknown>)[key];
  }
  return current;
}

function add(document: unknown, pointer: string, value: unknown): unknown {
  const path = tokens(pointer);
  const last = path.pop();
  if (last === undefined) return value;
  const parent = asContainer(get(document, path.map((t) => `/${t.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')), pointer);
  if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : index(parent, last, true, pointer), 0, value);
  else parent[last] = value;
  return document;
}

function remove(document: unknown, pointer: string): { document: unknown; value: unknown } {
  const path = tokens(pointer);
  const last = path.pop();
  if (last === undefined) return { document: undefined, value: document };
  const value = get(document, pointer);
  const parent = asContainer(get(document, path.map((t) => `/${t.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')), pointer);
  if (Array.isArray(parent)) parent.splice(index(parent, last, false, pointer), 1);
  else delete parent[last];
  return { document, value };
}

function asContainer(value: unknown, pointer: string): Container {
  if (typeof value !== 'object' || value === null) throw new JsonPatchError(`${pointer}: no such path`);
  return value as Container;
}

function index(array: unknown[], token: string, forInsert: boolean, pointer: string): number {
  const n = /^(0|[1-9]\d*)$/.test(token) ? Number(token) : NaN;
  if (!(n >= 0 && n <= array.length - (forInsert ? 0 : 1))) throw new JsonPatchError(`${pointer}: index out of range`);
  return n;
}
