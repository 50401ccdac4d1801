import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CwlLoadError } from './cwl-load-error.ts';
import { parseYaml, YamlProblem } from './parse-yaml.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Largest CWL or job document accepted: bigger is almost surely a mistake (ARCHITECTURE.md §6 limits). */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export interface ReadFile {
  file: string;
  text: string;
  value: Json;
}

export function toLocalPath(reference: string, baseDir: string): string {
  if (reference.startsWith('file://')) return fileURLToPath(reference);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference)) {
    throw new CwlLoadError(reference, 'remote references are not fetched; download the document first');
  }
  return path.resolve(baseDir, reference);
}

// A document may be imported many times in one load; a long-running node loads many documents, some
// changed since: the cache is bounded, and an entry counts only while the file is unchanged.
const CACHE_ENTRIES = 256;
const cache = new Map<string, { read: ReadFile; stamp: string }>();

/** Reads and parses one YAML or JSON file (cached while unchanged). */
export function readYamlFile(file: string): ReadFile {
  let stamp = '';
  try {
    const stat = statSync(file);
    stamp = `${stat.mtimeMs}:${stat.size}`;
  } catch {
    // Reported by the read below.
  }
  const cached = cache.get(file);
  if (cached && cached.stamp === stamp) return cached.read;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CwlLoadError(file, `cannot read file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, [], { cause: error });
  }
  if (text.length > MAX_DOCUMENT_BYTES) throw new CwlLoadError(file, `document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  let value: Json;
  try {
    value = parseYaml(text, { file }) as Json;
  } catch (error) {
    if (error instanceof YamlProblem) {
      throw new CwlLoadError(file, error.summary, [error.issue('(document)')], { cause: error });
    }
    throw error;
  }
  const read = { file, text, value };
  cache.delete(file);
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(file, { read, stamp });
  return read;
}

/**
 * Replaces `$import` (the parsed document) and `$include` (the file's text) directives, resolving each
 * path against the file that holds it.
 */
export function resolveDirectives(value: Json, file: string, seen: readonly string[] = []): Json {
  if (Array.isArray(value)) return value.map((item) => resolveDirectives(item, file, seen));
  if (value === null || typeof value !== 'object') return value;
  const dir = path.dirname(file);
  if (typeof value.$include === 'string') {
    const target = toLocalPath(value.$include, dir);
    try {
      return readFileSync(target, 'utf8');
    } catch (error) {
      throw new CwlLoadError(file, `$include of ${value.$include} failed: ${(error as NodeJS.ErrnoException).code ?? error}`, [], { cause: error });
    }
  }
  if (typeof value.$import === 'string') {
    const [target, fragment] = splitFragment(toLocalPath(value.$import, dir));
    if (seen.includes(target)) throw new CwlLoadError(file, `$import cycle through ${target}`);
    const imported = resolveDirectives(readYamlFile(target).value, target, [...seen, file]);
    return fragment ? selectFragment(imported, fragment, target) : imported;
  }
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) out[key] = resolveDirectives(child, file, seen);
  return out;
}

export function splitFragment(reference: string): [string, string | undefined] {
  const hash = reference.indexOf('#');
  return hash < 0 ? [reference, undefined] : [reference.slice(0, hash), reference.slice(hash + 1)];
}

/** Finds the object with `id` equal to the fragment (with or without `#`) anywhere in a document. */
export function selectFragment(document: Json, fragment: string, file: string): Json {
  const wanted = fragment.replace(/^#/, '');
  const stack: Json[] = [document];
  while (stack.length) {
    const node = stack.pop()!;
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === 'object') {
      const id = typeof node.id === 'string' ? node.id.replace(/^.*#/, '') : undefined;
      if (id === wanted) return node;
      stack.push(...Object.values(node));
    }
  }
  throw new CwlLoadError(file, `no object with id "#${wanted}" in the document`);
}
