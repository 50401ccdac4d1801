import { cpSync, existsSync, lstatSync, mkdirSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isFsObject, listDirectory, sha1File, withPathFields, type FsObject } from './file-objects.ts';

/** Moves (or, across file systems or for inputs passed through, copies) a path to its final place. */
function moveOrCopy(from: string, to: string, move: boolean) {
  mkdirSync(path.dirname(to), { recursive: true });
  if (existsSync(to)) return;
  // A symlink is copied as what it points to: moved, a relative link would break.
  if (move && !lstatSync(from).isSymbolicLink()) {
    try {
      renameSync(from, to);
      return;
    } catch {
      // EXDEV and friends: fall back to copying.
    }
  }
  // A copy keeps the time the tool wrote the file, as a move does (the reference runner's copy2).
  cpSync(from, to, { recursive: true, dereference: true, preserveTimestamps: true });
}

/** A final name in `outdir` that no earlier output took. */
function freeName(outdir: string, basename: string, taken: Set<string>): string {
  let candidate = path.join(outdir, basename);
  for (let n = 2; taken.has(candidate) || existsSync(candidate); n++) candidate = path.join(outdir, `${basename}_${n}`);
  taken.add(candidate);
  return candidate;
}

/**
 * Moves a process's output files from its working directories to `outdir` and gives them the fields
 * CWL prints: location, path, basename, size and a SHA-1 checksum for files, listings for directories.
 */
export async function relocateOutputs(
  outputs: Record<string, unknown>,
  workDirs: string[],
  outdir: string,
  options: {
    /** Objects to leave where they are, as they are (files a caller will name otherwise). */
    keep?: (obj: FsObject) => boolean;
    /** Outputs naming the same file get the same file in outdir (else each gets its own copy). */
    sameFileOnce?: boolean;
  } = {},
): Promise<Record<string, unknown>> {
  mkdirSync(outdir, { recursive: true });
  const taken = new Set<string>();
  const keep = options.keep ?? (() => false);
  const placedAt = new Map<string, string>();
  const sameKey = (basename: string, source: string) => (options.sameFileOnce ? `${basename}\0${existsSync(source) ? realpathSync(source) : source}` : undefined);
  // Only what really lives in the job's own folders is moved; anything reached through a symlink (an
  // input, a folder the tool linked) is copied, so that inputs are never taken away.
  const realDirs = workDirs.filter(existsSync).map((d) => realpathSync(d));
  const inWorkDir = (p: string) => {
    const real = existsSync(p) ? realpathSync(p) : p;
    return realDirs.find((d) => real === d || real.startsWith(d + path.sep));
  };
  // Several outputs may name the same path, or a file inside another output's directory: once one of
  // them has moved it, the others copy it from where it went.
  const moved = new Map<string, string>();
  const place = (from: string, to: string) => {
    let source = from;
    let move = inWorkDir(from) !== undefined;
    if (!existsSync(source)) {
      const earlier = [...moved].find(([src]) => from === src || from.startsWith(src + path.sep));
      if (earlier) {
        source = earlier[1] + from.slice(earlier[0].length);
        move = false;
      }
    }
    moveOrCopy(source, to, move);
    if (move && !existsSync(source)) moved.set(source, to);
  };

  const relocate = async (value: unknown, parentTarget?: string): Promise<unknown> => {
    if (Array.isArray(value)) {
      const out = [];
      for (const v of value) out.push(await relocate(v, parentTarget));
      return out;
    }
    if (isFsObject(value)) {
      if (keep(value)) return value;
      const source = typeof value.path === 'string' ? value.path : undefined;
      const basename = String(value.basename ?? (source ? path.basename(source) : value.class === 'File' ? 'file' : 'directory'));
      const same = !parentTarget && source ? sameKey(basename, source) : undefined;
      const sameAs = same === undefined ? undefined : placedAt.get(same);
      const target = sameAs ?? (parentTarget ? path.join(parentTarget, basename) : freeName(outdir, basename, taken));
      if (same !== undefined && !sameAs) placedAt.set(same, target);
      if (sameAs) {
        // Already placed for an earlier output.
      } else if (source) {
        if (!parentTarget || !existsSync(target)) place(source, target);
      } else if (value.class === 'File') {
        // A literal made by an expression: its contents become the file.
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, String(value.contents ?? ''));
      } else {
        mkdirSync(target, { recursive: true });
      }
      const result: FsObject = withPathFields({ class: value.class }, target);
      if (value.class === 'File') {
        result.checksum = await sha1File(target);
        result.size = statSync(target).size;
        if (typeof value.contents === 'string') result.contents = value.contents;
        if (value.format !== undefined) result.format = value.format;
      } else {
        // A directory found on disk (a secondary file, say) is listed from what was moved.
        result.listing = await relocate(Array.isArray(value.listing) ? value.listing : listDirectory(target, 'deep_listing'), target);
      }
      if (Array.isArray(value.secondaryFiles)) {
        const secondaries = [];
        for (const sf of value.secondaryFiles as FsObject[]) {
          const sfTarget = path.join(path.dirname(target), String(sf.basename));
          if (existsSync(String(sf.path))) place(String(sf.path), sfTarget);
          secondaries.push(await relocate(sf, path.dirname(target)));
        }
        result.secondaryFiles = secondaries;
      }
      // Derived name fields are for expressions, not for the printed result.
      delete result.dirname;
      delete result.nameroot;
      delete result.nameext;
      return result;
    }
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await relocate(v, parentTarget);
      return out;
    }
    return value;
  };
  return (await relocate(outputs)) as Record<string, unknown>;
}
