import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ObjectStore } from '../../core/index.ts';
import { isFsObject, type FsObject } from '../cwl/runtime/file-objects.ts';

/**
 * Files and directories travel between the steps of a run through its object store: a step publishes
 * the files it produced (each under a key of its own scope) and the File and Directory objects it
 * writes name them by `archipel-object:///<key>`; a step that reads them first materializes them into a
 * local mirror of the store, where the file at `<mirror>/<key>` is the object `<key>`. A directory is
 * the objects under its key, plus a marker for each empty folder.
 */
export const OBJECT_LOCATION = 'archipel-object:///';
const EMPTY_DIR_MARKER = '.archipel-empty-dir';
/**
 * At the mirror's root: the modification time and size of every file as it was downloaded (or last
 * pushed), so that one changed in place is found later, by another process too (a pod's stage and
 * collect containers share the mirror). A file in the store is never named so: its key would be the
 * mirror's own name.
 */
const STATE_FILE = '.archipel-mirror.json';
type MirrorState = Record<string, { mtimeMs: number; size: number }>;

export const objectLocation = (key: string) => `${OBJECT_LOCATION}${key}`;
export const objectKeyOf = (location: unknown) =>
  typeof location === 'string' && location.startsWith(OBJECT_LOCATION) ? location.slice(OBJECT_LOCATION.length) : undefined;

export interface StoreMirror {
  /** The local directory holding the materialized objects. */
  readonly dir: string;
  /** Downloads every object a value names (once) and points its File and Directory objects at the copies. */
  materialize<T>(value: T, signal?: AbortSignal): Promise<T>;
  /**
   * Uploads the local files and directories a value names under `prefix` and points its objects at the
   * keys; files of the mirror are named by their keys without uploading them again. Literal files
   * (`contents` without a location) stay as they are.
   */
  publish<T>(value: T, prefix: string, signal?: AbortSignal): Promise<T>;
  /**
   * Uploads the mirror's files that were changed or added since they were materialized, under their
   * own keys: how an in-place update (InplaceUpdateRequirement) reaches the steps that read the file later.
   */
  pushChanges(signal?: AbortSignal): Promise<string[]>;
}

/** The path-derived fields a location change invalidates (they are recomputed where the file is used). */
const PATH_FIELDS = ['path', 'dirname'] as const;

function localPath(obj: FsObject): string | undefined {
  if (typeof obj.path === 'string') return obj.path;
  if (typeof obj.location === 'string' && obj.location.startsWith('file://')) return fileURLToPath(obj.location);
  return undefined;
}

export function createStoreMirror(store: ObjectStore, dir: string): StoreMirror {
  mkdirSync(dir, { recursive: true });
  const realDir = realpathSync(dir);
  const stateFile = path.join(dir, STATE_FILE);

  const readState = (): MirrorState => {
    try {
      return JSON.parse(readFileSync(stateFile, 'utf8')) as MirrorState;
    } catch {
      return {}; // none yet: nothing was downloaded here
    }
  };
  /** Adds files as they are now to the state (read afresh: another mirror of the folder may have added some). */
  const remember = (keys: string[]) => {
    if (!keys.length) return;
    const state = readState();
    for (const key of keys) {
      const { mtimeMs, size } = statSync(path.join(dir, key));
      state[key] = { mtimeMs, size };
    }
    const partial = `${stateFile}.partial-${process.pid}`;
    writeFileSync(partial, JSON.stringify(state));
    renameSync(partial, stateFile);
  };

  /** Downloads an object unless it is here already; true when it was downloaded. */
  async function download(key: string, signal?: AbortSignal): Promise<boolean> {
    const target = path.join(dir, key);
    if (existsSync(target)) return false;
    mkdirSync(path.dirname(target), { recursive: true });
    const { info, body } = await store.get(key, { signal });
    const partial = `${target}.partial-${process.pid}`;
    await pipeline(body, createWriteStream(partial), { signal });
    // The file keeps the time it was stored (when its step collected it), as a copy keeps its time.
    const stored = info.lastModified.getTime();
    if (stored > 0) utimesSync(partial, info.lastModified, info.lastModified);
    renameSync(partial, target);
    return true;
  }

  async function downloadTree(key: string, downloaded: string[], signal?: AbortSignal) {
    const root = path.join(dir, key);
    mkdirSync(root, { recursive: true });
    for await (const info of store.list(`${key}/`, { signal })) {
      if (path.basename(info.key) === EMPTY_DIR_MARKER) mkdirSync(path.join(dir, path.dirname(info.key)), { recursive: true });
      else if (await download(info.key, signal)) downloaded.push(info.key);
    }
  }

  async function materializeValue(value: unknown, downloaded: string[], signal?: AbortSignal): Promise<unknown> {
    if (Array.isArray(value)) {
      const out = [];
      for (const v of value) out.push(await materializeValue(v, downloaded, signal));
      return out;
    }
    if (isFsObject(value)) {
      const out: FsObject = { ...value };
      const key = objectKeyOf(value.location);
      if (key !== undefined) {
        if (value.class !== 'File') await downloadTree(key, downloaded, signal);
        else if (await download(key, signal)) downloaded.push(key);
        const local = path.join(dir, key);
        out.location = pathToFileURL(local).href;
        out.path = local;
        out.dirname = path.dirname(local);
      }
      if (Array.isArray(value.secondaryFiles)) out.secondaryFiles = await materializeValue(value.secondaryFiles, downloaded, signal);
      // A stored directory's listing is what the store holds now (a step may have added to it in
      // place): it is listed again from the copy, as the reading process's loadListing asks.
      if (key !== undefined && value.class === 'Directory') delete out.listing;
      else if (Array.isArray(value.listing)) out.listing = await materializeValue(value.listing, downloaded, signal);
      return out;
    }
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await materializeValue(v, downloaded, signal);
      return out;
    }
    return value;
  }

  async function upload(file: string, key: string, signal?: AbortSignal) {
    await store.put(key, createReadStream(file), { signal });
  }

  async function uploadTree(folder: string, key: string, signal?: AbortSignal) {
    const entries = readdirSync(folder, { withFileTypes: true });
    if (!entries.length) await store.put(`${key}/${EMPTY_DIR_MARKER}`, new Uint8Array(), { signal });
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      // Links are followed: the store holds what a link points to.
      if (statSync(full).isDirectory()) await uploadTree(full, `${key}/${entry.name}`, signal);
      else await upload(full, `${key}/${entry.name}`, signal);
    }
  }

  async function pushChanges(signal?: AbortSignal): Promise<string[]> {
    const state = readState();
    const pushed: string[] = [];
    const walk = async (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile() && !entry.name.includes('.partial-') && full !== stateFile) {
          const key = path.relative(dir, full).split(path.sep).join('/');
          const known = state[key];
          const now = statSync(full);
          if (known && known.mtimeMs === now.mtimeMs && known.size === now.size) continue;
          await upload(full, key, signal);
          pushed.push(key);
        }
      }
    };
    try {
      await walk(dir);
    } finally {
      remember(pushed);
    }
    return pushed;
  }

  return {
    dir,
    pushChanges,
    async materialize(value, signal) {
      const downloaded: string[] = [];
      try {
        return (await materializeValue(value, downloaded, signal)) as typeof value;
      } finally {
        remember(downloaded);
      }
    },
    async publish(value, prefix, signal) {
      let counter = 0;
      // Local folders already published in this call, and their keys: their contents need no upload.
      const published: { folder: string; key: string }[] = [];
      // A file named by several objects is uploaded once.
      const uploaded = new Map<string, string>();
      const keyOfMirrored = (file: string) => {
        const real = existsSync(file) ? realpathSync(file) : file;
        return real.startsWith(`${realDir}/`) ? real.slice(realDir.length + 1) : undefined;
      };
      const keyInPublished = (file: string) => {
        const hit = published.find((p) => file.startsWith(`${p.folder}/`));
        return hit && `${hit.key}/${file.slice(hit.folder.length + 1)}`;
      };

      async function visit(v: unknown): Promise<unknown> {
        if (Array.isArray(v)) {
          const out = [];
          for (const x of v) out.push(await visit(x));
          return out;
        }
        if (isFsObject(v)) {
          const out: FsObject = { ...v };
          const local = localPath(v);
          if (local !== undefined) {
            let key = keyOfMirrored(local) ?? keyInPublished(local) ?? uploaded.get(local);
            if (key === undefined) {
              const basename = typeof v.basename === 'string' && v.basename ? v.basename : path.basename(local);
              key = `${prefix}/${counter++}/${basename}`;
              uploaded.set(local, key);
              if (v.class === 'File') await upload(local, key, signal);
              else {
                await uploadTree(local, key, signal);
                published.push({ folder: local, key });
              }
            }
            out.location = objectLocation(key);
            for (const field of PATH_FIELDS) delete out[field];
          }
          if (Array.isArray(v.secondaryFiles)) out.secondaryFiles = await visit(v.secondaryFiles);
          if (Array.isArray(v.listing)) out.listing = await visit(v.listing);
          return out;
        }
        if (v !== null && typeof v === 'object') {
          const out: Record<string, unknown> = {};
          for (const [k, x] of Object.entries(v)) out[k] = await visit(x);
          return out;
        }
        return v;
      }
      return (await visit(value)) as typeof value;
    },
  };
}
