import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandLineTool } from '../model.ts';
import { JobInputError } from './cwl-errors.ts';
import type { EvalContext, Evaluator } from './evaluation.ts';
import { isFsObject, resolveInputObject, withPathFields, type FsObject } from './file-objects.ts';
import { toCwlJsonText } from '../expressions/index.ts';
import { findRequirement } from './requirements.ts';
import { visitFsObjects } from './types.ts';

/** Puts a File or Directory into the working directory: a symlink, or a copy when it must be writable. */
function place(obj: FsObject, target: string, writable: boolean) {
  mkdirSync(path.dirname(target), { recursive: true });
  if (existsSync(target)) return;
  if (typeof obj.path === 'string' && existsSync(obj.path)) {
    if (writable) cpSync(obj.path, target, { recursive: true, dereference: true });
    else symlinkSync(obj.path, target);
  } else if (obj.class === 'File' && typeof obj.contents === 'string') {
    writeFileSync(target, obj.contents);
  } else if (obj.class === 'Directory') {
    mkdirSync(target, { recursive: true });
    for (const entry of (obj.listing as FsObject[] | undefined) ?? []) {
      place(entry, path.join(target, String(entry.basename)), writable);
    }
  } else {
    throw new JobInputError(`cannot stage ${String(obj.location ?? obj.basename)}: no such file`);
  }
  if (Array.isArray(obj.secondaryFiles)) {
    for (const sf of obj.secondaryFiles as FsObject[]) place(sf, path.join(path.dirname(target), String(sf.basename)), writable);
  }
}

/**
 * Stages InitialWorkDirRequirement entries into the output directory (the tool's working directory)
 * and points the matching inputs at their staged paths. Returns the paths staged from.
 */
export function stageInitialWorkDir(
  tool: CommandLineTool,
  evaluator: Evaluator,
  context: EvalContext,
  outdir: string,
  literalDir: string,
  /** Copy rather than symlink: a container cannot follow links to host paths. */
  copy = false,
): string[] {
  const toolDir = path.dirname(tool.sourceFile);
  // File and Directory objects written in the tool itself are relative to the tool's file.
  const resolve = (obj: FsObject): FsObject =>
    typeof obj.path === 'string' && path.isAbsolute(obj.path) ? obj : resolveInputObject(obj, toolDir, literalDir, 'InitialWorkDirRequirement');
  const req = findRequirement(tool, 'InitialWorkDirRequirement');
  if (!req) return [];
  // With InplaceUpdateRequirement a writable entry is the input itself, changed in place, not a copy.
  const inplace = findRequirement(tool, 'InplaceUpdateRequirement')?.inplaceUpdate === true;
  const staged = new Map<string, string>();
  const stageObject = (obj: FsObject, entryname: string | undefined, writable: boolean) => {
    const name = entryname ?? String(obj.basename);
    if (path.isAbsolute(name)) {
      throw new JobInputError(`InitialWorkDirRequirement: entryname "${name}" is absolute, which only works inside a container`);
    }
    const target = path.resolve(outdir, name);
    if (!target.startsWith(outdir + path.sep) && target !== outdir) {
      throw new JobInputError(`InitialWorkDirRequirement: entryname "${name}" points outside the working directory`);
    }
    place(obj, target, (writable && !inplace) || copy);
    if (typeof obj.path === 'string') staged.set(obj.path, target);
  };

  const field = 'InitialWorkDirRequirement.listing';
  const listing = typeof req.listing === 'string' ? evaluator.evaluate(req.listing, context, { field }) : req.listing;
  const entries = Array.isArray(listing) ? listing : [listing];
  for (const [index, raw] of entries.flat().entries()) {
    if (raw === null || raw === undefined) continue;
    const at = typeof req.listing === 'string' ? field : `${field}[${index}]`;
    const entry = typeof raw === 'string' ? evaluator.evaluate(raw, context, { field: at }) : raw;
    for (const item of Array.isArray(entry) ? entry.flat() : [entry]) {
      if (item === null || item === undefined) continue;
      if (isFsObject(item)) {
        stageObject(resolve(item), undefined, false);
        continue;
      }
      if (typeof item !== 'object') throw new JobInputError(`InitialWorkDirRequirement: unexpected entry ${JSON.stringify(item)}`);
      const dirent = item as { entry?: unknown; entryname?: unknown; writable?: boolean };
      const entryname = dirent.entryname === undefined ? undefined : String(evaluator.evaluate(dirent.entryname, context, { field: `${at}.entryname` }));
      const value = evaluator.evaluate(dirent.entry, context, { stripWhitespace: false, field: `${at}.entry` });
      const writable = dirent.writable === true;
      if (value === null || value === undefined) continue;
      if (isFsObject(value)) stageObject(value, entryname, writable);
      else if (Array.isArray(value) && value.every(isFsObject)) {
        for (const v of value) stageObject(v, entryname ? path.join(entryname, String(v.basename)) : undefined, writable);
      } else {
        if (!entryname) throw new JobInputError('InitialWorkDirRequirement: an entry with text content needs an entryname');
        // Text content: a non-string value is written as JSON (CWL v1.2).
        const text = typeof value === 'string' ? value : toCwlJsonText(value);
        const target = path.resolve(outdir, entryname);
        if (path.isAbsolute(entryname)) throw new JobInputError(`InitialWorkDirRequirement: entryname "${entryname}" is absolute, which only works inside a container`);
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
    }
  }
  // Inputs that were staged now live in the working directory. A new object: the expression engine
  // caches the inputs it has seen by identity.
  context.inputs = structuredClone(context.inputs);
  visitFsObjects(context.inputs, (obj) => {
    const target = typeof obj.path === 'string' ? staged.get(obj.path) : undefined;
    if (target) Object.assign(obj, withPathFields(obj as FsObject, target));
  });
  return [...staged.keys()];
}
