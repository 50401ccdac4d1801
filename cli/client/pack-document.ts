import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { InvalidInputError } from '../../core/index.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * One self-contained CWL document from a file, as a node accepts it: `run: other.cwl`, `$import` and
 * `$include` are replaced by what they name (relative to the file that names them). A document without
 * such references is sent as written, so that the node's errors name its own lines.
 */
export function packDocument(file: string): string {
  const text = readFileSync(file, 'utf8');
  const root = load(text) as Json;
  let changed = false;

  const inline = (value: Json, dir: string, seen: readonly string[]): Json => {
    if (Array.isArray(value)) return value.map((v) => inline(v, dir, seen));
    if (!isObject(value)) return value;
    if (typeof value.$import === 'string' || typeof value.$include === 'string') {
      changed = true;
      const ref = path.resolve(dir, String(value.$import ?? value.$include));
      if (seen.includes(ref)) throw new InvalidInputError(`${ref}: imports itself`);
      if (typeof value.$include === 'string') return readFileSync(ref, 'utf8');
      return inline(load(readFileSync(ref, 'utf8')) as Json, path.dirname(ref), [...seen, ref]);
    }
    const out: Record<string, Json> = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === 'run' && typeof v === 'string' && !v.startsWith('#')) {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !v.startsWith('file://')) throw new InvalidInputError(`run: ${v}: remote documents are not fetched; download it first`);
        const ref = path.resolve(dir, v.startsWith('file://') ? new URL(v).pathname : v.split('#')[0]!);
        if (seen.includes(ref)) throw new InvalidInputError(`${ref}: runs itself`);
        changed = true;
        out[key] = inline(load(readFileSync(ref, 'utf8')) as Json, path.dirname(ref), [...seen, ref]);
      } else out[key] = inline(v, dir, seen);
    }
    return out;
  };
  const packed = inline(root, path.dirname(path.resolve(file)), [path.resolve(file)]);
  return changed ? JSON.stringify(packed) : text;
}
