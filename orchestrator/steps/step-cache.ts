import { createHash } from 'node:crypto';
import path from 'node:path';
import { NotFoundError, type ObjectStore } from '../../core/index.ts';
import type { Process } from '../cwl/model.ts';
import { isFsObject } from '../cwl/runtime/file-objects.ts';
import { mapFsObjects, mapNestedFields } from '../cwl/runtime/map-fs-objects.ts';
import { readJson, writeJson } from './store-json.ts';
import { objectKeyOf, objectLocation } from './store-files.ts';

/**
 * Result reuse (CWL's WorkReuse): a tool step item's outputs are remembered under a key made of the tool
 * (its normalised document with the requirements it inherits), the contents of its input files (their
 * checksums in the store) and its other input values. A later item with the same key, in a run with the
 * same cache prefix (the project), takes the remembered outputs — copied into its own scope, so that runs
 * stay independent — instead of running the tool.
 */
const KEY_VERSION = 'archipel-step-cache/1';

/** Whether the process lets its results be reused: `WorkReuse: {enableReuse: false}` (or an expression) turns it off. */
export function reuseEnabled(process: Process): boolean {
  const reuse = [...process.requirements, ...process.hints].find((r) => r.class === 'WorkReuse');
  return reuse === undefined || reuse.enableReuse === undefined || reuse.enableReuse === true;
}

/** The value with each stored File and Directory replaced by what its content is (not where it is). */
async function contentOf(store: ObjectStore, value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => contentOf(store, v)));
  if (isFsObject(value)) {
    const key = objectKeyOf(value.location);
    const out: Record<string, unknown> = { class: value.class, basename: value.basename ?? (key ? path.posix.basename(key) : undefined) };
    if (key !== undefined && value.class === 'File') {
      const info = await store.head(key);
      out.content = [info.size, info.etag];
    } else if (key !== undefined) {
      const entries: [string, number, string][] = [];
      for await (const info of store.list(`${key}/`)) entries.push([info.key.slice(key.length + 1), info.size, info.etag]);
      out.content = entries;
    } else {
      for (const field of ['contents', 'listing'] as const) if (value[field] !== undefined) out[field] = await contentOf(store, value[field]);
    }
    for (const field of ['secondaryFiles', 'format'] as const) if (value[field] !== undefined) out[field] = await contentOf(store, value[field]);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return Object.fromEntries(await Promise.all(entries.map(async ([k, v]) => [k, await contentOf(store, v)] as const)));
  }
  return value;
}

/** The tool as it decides results: its document without where it was read from. */
function toolIdentity(process: Process): unknown {
  return JSON.parse(JSON.stringify(process, (key, value: unknown) => (key === 'sourceFile' ? undefined : value)));
}

/** The cache key of running `process` on `job` (a job whose files are in the store). */
export async function cacheKey(store: ObjectStore, process: Process, job: Record<string, unknown>): Promise<string> {
  const material = JSON.stringify([KEY_VERSION, toolIdentity(process), await contentOf(store, job)]);
  return createHash('sha256').update(material).digest('hex');
}

const entryKey = (cache: string, key: string) => `${cache}/${key}.json`;

/** Copies every stored object the outputs name under `prefix` and points the outputs at the copies. */
async function copyOutputs(store: ObjectStore, outputs: Record<string, unknown>, prefix: string): Promise<Record<string, unknown>> {
  let counter = 0;
  const copy = async (from: string, to: string) => {
    const { info, body } = await store.get(from);
    await store.put(to, body, info.contentType ? { contentType: info.contentType } : {});
  };
  return mapFsObjects(outputs, async (value, nested) => {
    const out: Record<string, unknown> = { ...value };
    const key = objectKeyOf(value.location);
    if (key !== undefined) {
      const target = `${prefix}/${counter++}/${path.posix.basename(key)}`;
      if (value.class === 'File') await copy(key, target);
      else {
        const keys: string[] = [];
        for await (const info of store.list(`${key}/`)) keys.push(info.key);
        for (const k of keys) await copy(k, `${target}/${k.slice(key.length + 1)}`);
      }
      out.location = objectLocation(target);
    }
    return { ...out, ...(await mapNestedFields(value, nested)) };
  });
}

/**
 * The remembered outputs for `key`, copied under `prefix`; undefined when there are none, or when an
 * object they name is gone (the run that made them was deleted): that entry is forgotten.
 */
export async function takeCachedOutputs(store: ObjectStore, cache: string, key: string, prefix: string): Promise<Record<string, unknown> | undefined> {
  let entry: { outputs: Record<string, unknown> };
  try {
    entry = await readJson(store, entryKey(cache, key));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  try {
    return await copyOutputs(store, entry.outputs, prefix);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    await store.delete(entryKey(cache, key));
    return undefined;
  }
}

export async function rememberOutputs(store: ObjectStore, cache: string, key: string, outputs: Record<string, unknown>, madeBy: string): Promise<void> {
  await writeJson(store, entryKey(cache, key), { outputs, madeBy, at: new Date().toISOString() });
}
