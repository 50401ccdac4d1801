import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LoadListing } from '../model.ts';
import { JobInputError, ProcessFailedError } from './cwl-errors.ts';

/** A CWL File or Directory object as seen by expressions and printed in outputs. */
export type FsObject = Record<string, unknown> & { class: 'File' | 'Directory' };

export const isFsObject = (v: unknown): v is FsObject =>
  v !== null && typeof v === 'object' && ((v as FsObject).class === 'File' || (v as FsObject).class === 'Directory');

/** CWL's loadContents limit: 64 KiB. */
export const CONTENTS_LIMIT = 64 * 1024;

export function locationToPath(location: string, baseDir: string): string {
  if (location.startsWith('file://')) return fileURLToPath(location);
  // Only `scheme://...` is a remote URL; `A:Gln2Cys` is a file name with a colon.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new JobInputError(`unsupported location "${location}": only local files are supported`);
  }
  return path.resolve(baseDir, location);
}

export function splitName(basename: string): { nameroot: string; nameext: string } {
  const dot = basename.lastIndexOf('.');
  return dot > 0 ? { nameroot: basename.slice(0, dot), nameext: basename.slice(dot) } : { nameroot: basename, nameext: '' };
}

/** Sets the path-derived fields (`path`, `location`, `basename`, `dirname`, `nameroot`, `nameext`). */
export function withPathFields(obj: FsObject, filePath: string): FsObject {
  const basename = path.basename(filePath);
  const out: FsObject = { ...obj, location: pathToFileURL(filePath).href, path: filePath, basename, dirname: path.dirname(filePath) };
  if (obj.class === 'File') Object.assign(out, splitName(basename));
  return out;
}

export function readContents(filePath: string, what: string): string {
  const fd = openSync(filePath, 'r');
  try {
    const buffer = Buffer.alloc(CONTENTS_LIMIT + 1);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    if (n > CONTENTS_LIMIT) throw new ProcessFailedError(`loadContents of ${what}: file is larger than ${CONTENTS_LIMIT} bytes`);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export async function sha1File(filePath: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return `sha1$${hash.digest('hex')}`;
}

/** Lists a directory's entries as File/Directory objects, to the depth asked. */
export function listDirectory(dirPath: string, depth: LoadListing): FsObject[] {
  if (depth === 'no_listing') return [];
  return readdirSync(dirPath, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((entry) => {
      const full = path.join(dirPath, entry.name);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(full).isDirectory());
      if (isDir) {
        const dir = withPathFields({ class: 'Directory' }, full);
        if (depth === 'deep_listing') dir.listing = listDirectory(full, depth);
        return dir;
      }
      return withPathFields({ class: 'File', size: statSync(full).size }, full);
    });
}

function decodeLocation(location: string): string {
  if (location.startsWith('file://')) return location;
  try {
    return decodeURIComponent(location);
  } catch {
    return location;
  }
}

const randomName = () => Math.random().toString(36).slice(2, 10);

/**
 * Resolves a File/Directory from a job (or a default) into one with absolute paths and its derived
 * fields. Literals (`contents` without a location; `listing` without a location) are written to disk:
 * in `placeIn` when given (entries of a literal directory), else in a fresh folder under `literalDir`.
 */
export function resolveInputObject(obj: FsObject, baseDir: string, literalDir: string, what: string, placeIn?: string): FsObject {
  let result: FsObject;
  // `location` is a URI reference (`item%231.txt`), `path` a plain path.
  const location = typeof obj.location === 'string' ? decodeLocation(obj.location) : (obj.path as string | undefined);
  const parentFor = () => {
    const dir = placeIn ?? path.join(literalDir, randomName());
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  if (obj.class === 'File') {
    if (location === undefined) {
      if (typeof obj.contents !== 'string') throw new JobInputError(`${what}: a File needs a location, a path or contents`);
      const target = path.join(parentFor(), typeof obj.basename === 'string' ? obj.basename : `literal-${randomName()}`);
      writeFileSync(target, obj.contents);
      result = withPathFields({ ...obj }, target);
    } else {
      const filePath = locationToPath(location, baseDir);
      if (placeIn) {
        const target = path.join(parentFor(), typeof obj.basename === 'string' ? obj.basename : path.basename(filePath));
        symlinkSync(filePath, target);
        result = withPathFields({ ...obj }, target);
      } else {
        result = withPathFields({ ...obj }, filePath);
        if (typeof obj.basename === 'string' && obj.basename !== path.basename(filePath)) {
          // A renamed input keeps its own basename; staging honours it.
          Object.assign(result, { basename: obj.basename, ...splitName(obj.basename) });
        }
      }
    }
    if (!existsSync(result.path as string)) throw new JobInputError(`${what}: file not found: ${result.path}`);
    result.size = statSync(result.path as string).size;
  } else {
    let literal = false;
    if (location === undefined) {
      literal = true;
      const target = path.join(parentFor(), typeof obj.basename === 'string' ? obj.basename : `dir-${randomName()}`);
      mkdirSync(target, { recursive: true });
      result = withPathFields({ ...obj }, target);
    } else {
      result = withPathFields({ ...obj }, locationToPath(location, baseDir));
      if (!existsSync(result.path as string)) throw new JobInputError(`${what}: directory not found: ${result.path}`);
      if (typeof obj.basename === 'string') result.basename = obj.basename;
    }
    if (Array.isArray(obj.listing)) {
      result.listing = obj.listing.map((entry, i) =>
        isFsObject(entry)
          ? resolveInputObject(entry, baseDir, literalDir, `${what}.listing[${i}]`, literal ? (result.path as string) : undefined)
          : entry,
      );
    }
  }
  if (Array.isArray(obj.secondaryFiles)) {
    result.secondaryFiles = obj.secondaryFiles.map((sf, i) =>
      isFsObject(sf) ? resolveInputObject(sf, baseDir, literalDir, `${what}.secondaryFiles[${i}]`) : sf,
    );
  }
  return result;
}
