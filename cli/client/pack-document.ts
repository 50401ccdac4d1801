import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../../core/index.ts';
import { parseYaml, YamlProblem } from '../../orchestrator/index.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A file's text, or an error naming the file. */
function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, [{ path: file, message: 'unreadable' }], { cause: error });
  }
}

/** A YAML or JSON document, or an error naming the file and line. */
function parse(text: string, file: string): Json {
  try {
    return parseYaml(text, { file }) as Json;
  } catch (error) {
    if (!(error instanceof YamlProblem)) throw error;
    throw new InvalidInputError(`${error.at(file)}: ${error.summary}`, [error.issue(file)], { cause: error });
  }
}

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Uploads the local files a part of a document names (defaults), relative to `dir`; resolves with the part pointing at the uploads. */
export type UploadDocumentFiles = (value: Json, dir: string) => Promise<Json>;

/**
 * One self-contained CWL document from a file, as a node accepts it: `run: other.cwl`, `$import` and
 * `$include` are replaced by what they name (relative to the file that names them), and with `upload`,
 * the local files the documents name are uploaded and named by their uploaded locations. A document
 * without such references is sent as written, so that the node's errors name its own lines.
 */
export async function packDocument(file: string, upload?: UploadDocumentFiles): Promise<string> {
  const text = readText(file);
  let changed = false;
  const withUploads = async (value: Json, dir: string): Promise<Json> => {
    if (!upload) return value;
    const before = JSON.stringify(value);
    const after = await upload(value, dir);
    if (JSON.stringify(after) !== before) changed = true;
    return after;
  };
  const root = await withUploads(parse(text, file), path.dirname(path.resolve(file)));

  const inline = async (value: Json, dir: string, seen: readonly string[]): Promise<Json> => {
    if (Array.isArray(value)) return Promise.all(value.map((v) => inline(v, dir, seen)));
    if (!isObject(value)) return value;
    if (typeof value.$import === 'string' || typeof value.$include === 'string') {
      changed = true;
      const ref = path.resolve(dir, String(value.$import ?? value.$include));
      if (seen.includes(ref)) throw new InvalidInputError(`${ref}: imports itself`);
      if (typeof value.$include === 'string') return readText(ref);
      return inline(await withUploads(parse(readText(ref), ref), path.dirname(ref)), path.dirname(ref), [...seen, ref]);
    }
    const out: Record<string, Json> = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === 'run' && typeof v === 'string' && !v.startsWith('#')) {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !v.startsWith('file://')) throw new InvalidInputError(`run: ${v}: remote documents are not fetched; download it first`);
        const ref = path.resolve(dir, v.startsWith('file://') ? new URL(v).pathname : v.split('#')[0]!);
        if (seen.includes(ref)) throw new InvalidInputError(`${ref}: runs itself`);
        changed = true;
        out[key] = await inline(await withUploads(parse(readText(ref), ref), path.dirname(ref)), path.dirname(ref), [...seen, ref]);
      } else out[key] = await inline(v, dir, seen);
    }
    return out;
  };
  const packed = await inline(root, path.dirname(path.resolve(file)), [path.resolve(file)]);
  return changed ? JSON.stringify(packed) : text;
}
