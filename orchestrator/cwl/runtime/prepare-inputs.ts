import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CwlType, LoadListing, Parameter, Process, SecondaryFileSpec } from '../model.ts';
import { JobInputError } from './cwl-errors.ts';
import type { EvalContext, Evaluator } from './evaluation.ts';
import { isFsObject, listDirectory, readContents, resolveInputObject, withPathFields, type FsObject } from './file-objects.ts';
import { findRequirement } from './requirements.ts';
import { conforms, describeMismatch, describeType, matchingType, visitFsObjects } from './types.ts';

export interface PrepareOptions {
  /** Directory that relative paths in the job resolve against. */
  jobDir: string;
  /** Where File and Directory literals are written. */
  literalDir: string;
}

/** Resolves every File/Directory in a value (job values against the job, defaults against the tool). */
function resolveFs(value: unknown, baseDir: string, literalDir: string, what: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveFs(v, baseDir, literalDir, `${what}[${i}]`));
  if (isFsObject(value)) return resolveInputObject(value, baseDir, literalDir, what);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveFs(v, baseDir, literalDir, `${what}.${k}`)]));
  }
  return value;
}

export function defaultLoadListing(process: Process, param?: { loadListing?: LoadListing }): LoadListing {
  if (param?.loadListing) return param.loadListing;
  const req = findRequirement(process, 'LoadListingRequirement');
  if (req && typeof req.loadListing === 'string') return req.loadListing as LoadListing;
  // CWL v1.0 listed directories deeply by default; v1.1 made "no listing" the default.
  return process.cwlVersion === 'v1.0' ? 'deep_listing' : 'no_listing';
}

/** The path a secondary-file pattern names for a primary file: `^` strips one extension each. */
export function applyPattern(primary: FsObject, pattern: string): string {
  let base = String(primary.basename);
  let p = pattern;
  while (p.startsWith('^')) {
    const dot = base.lastIndexOf('.');
    if (dot > 0) base = base.slice(0, dot);
    p = p.slice(1);
  }
  return base + p;
}

/**
 * Adds the secondary files a parameter asks for, found beside the primary file, unless the job listed
 * them already. A required one that is missing is an error.
 */
export function discoverSecondaryFiles(
  primary: FsObject,
  specs: SecondaryFileSpec[],
  evaluator: Evaluator,
  context: EvalContext,
  what: string,
  /** Builds the error for a missing required one; null to skip missing ones. */
  onMissing: ((message: string) => Error) | null,
  /** The parameter's field in the document (`inputs.reads`), for expression errors. */
  field = what,
) {
  const existing = Array.isArray(primary.secondaryFiles) ? (primary.secondaryFiles as FsObject[]) : [];
  const found: FsObject[] = [...existing];
  const dir = path.dirname(String(primary.path));
  for (const spec of specs) {
    const required = spec.required === undefined ? true : Boolean(evaluator.evaluate(spec.required, { ...context, self: primary }, { field: `${field}.secondaryFiles.required` }));
    const evaluated = spec.pattern.includes('$') ? evaluator.evaluate(spec.pattern, { ...context, self: primary }, { field: `${field}.secondaryFiles.pattern` }) : spec.pattern;
    for (const result of Array.isArray(evaluated) ? evaluated : [evaluated]) {
      if (result === null || result === undefined) continue;
      if (isFsObject(result)) {
        found.push(result);
        continue;
      }
      const name = spec.pattern.includes('$') ? String(result) : applyPattern(primary, String(result));
      if (found.some((f) => f.basename === name)) continue;
      const candidate = path.join(dir, name);
      if (existsSync(candidate)) {
        const isDir = statSync(candidate).isDirectory();
        const obj = withPathFields({ class: isDir ? 'Directory' : 'File' }, candidate);
        if (!isDir) obj.size = statSync(candidate).size;
        found.push(obj);
      } else if (required && onMissing) {
        throw onMissing(`${what}: missing required secondary file "${name}" (pattern "${spec.pattern}") beside ${primary.path}`);
      }
    }
  }
  if (found.length || specs.length) primary.secondaryFiles = found;
}

export function expandFormatPrefix(format: string, namespaces: Record<string, string>): string {
  const colon = format.indexOf(':');
  const ns = colon > 0 && !format.includes('://') ? namespaces[format.slice(0, colon)] : undefined;
  return ns ? ns + format.slice(colon + 1) : format;
}

/** Whether a file's format is the wanted one (exact IRI match; ontologies are not reasoned over). */
export function formatMatches(actual: unknown, wanted: unknown[]): boolean {
  return typeof actual === 'string' && wanted.some((w) => w === actual);
}

interface Walk {
  evaluator: Evaluator;
  context: EvalContext;
  process: Process;
  hasSchemas: boolean;
}

/** Applies a parameter's loadContents, loadListing, secondaryFiles and format to the Files in a value. */
function completeValue(value: unknown, type: CwlType, param: Pick<Parameter, 'secondaryFiles' | 'format' | 'loadContents' | 'loadListing' | 'inputBinding'>, walk: Walk, what: string) {
  if (value === null || value === undefined) return;
  const branch = matchingType(value, type) ?? type;
  if (Array.isArray(value)) {
    const items = typeof branch === 'object' && !Array.isArray(branch) && branch.type === 'array' ? branch.items : 'Any';
    value.forEach((v, i) => completeValue(v, items, param, walk, `${what}[${i}]`));
    return;
  }
  if (typeof branch === 'object' && !Array.isArray(branch) && branch.type === 'record' && !isFsObject(value)) {
    const record = value as Record<string, unknown>;
    for (const field of branch.fields) completeValue(record[field.name], field.type, field, walk, `${what}.${field.name}`);
    return;
  }
  if (!isFsObject(value)) return;
  if (value.class === 'File') {
    if (param.loadContents || param.inputBinding?.loadContents) value.contents = readContents(String(value.path), what);
    if (param.secondaryFiles?.length) {
      discoverSecondaryFiles(value, param.secondaryFiles, walk.evaluator, walk.context, what, (m) => new JobInputError(m), `inputs.${what}`);
    }
    if (param.format !== undefined && param.format !== null) {
      const wanted = walk.evaluator.evaluate(param.format, { ...walk.context, self: value }, { field: `inputs.${what}.format` });
      const list = (Array.isArray(wanted) ? wanted : [wanted]).map(String);
      if (value.format === undefined) {
        // cwltool accepts an unannotated file; only a contradicting annotation is an error.
      } else if (!formatMatches(value.format, list) && !walk.hasSchemas) {
        throw new JobInputError(`${what}: file format ${String(value.format)} is not the expected ${list.join(' or ')}`, [
          { path: what, message: 'wrong file format' },
        ]);
      }
    }
  } else {
    const depth = defaultLoadListing(walk.process, param);
    if (value.listing === undefined && depth !== 'no_listing') value.listing = listDirectory(String(value.path), depth);
  }
}

/**
 * Turns a job object into the `inputs` of a process: defaults filled in, Files and Directories resolved,
 * every value checked against its declared type (each mismatch named), then loadContents, listings,
 * secondary files and formats applied.
 */
export function prepareInputs(process: Process, job: Record<string, unknown>, evaluator: Evaluator, options: PrepareOptions): Record<string, unknown> {
  const toolDir = path.dirname(process.sourceFile);
  const inputs: Record<string, unknown> = {};
  const problems: { path: string; message: string }[] = [];
  for (const param of process.inputs) {
    let value: unknown;
    if (job[param.id] !== undefined && job[param.id] !== null) value = resolveFs(job[param.id], options.jobDir, options.literalDir, param.id);
    else if (param.default !== undefined && param.default !== null) {
      try {
        value = resolveFs(param.default, toolDir, options.literalDir, param.id);
      } catch (error) {
        // A default naming a file that does not exist counts as no value (cwltool warns).
        if (!(error instanceof JobInputError) || conforms(null, param.type)) value = null;
        else throw error;
      }
    } else value = job[param.id] === undefined ? null : job[param.id];
    if (!conforms(value, param.type)) {
      problems.push({
        path: param.id,
        message: value === null ? `missing a value of type ${describeType(param.type)}` : describeMismatch(value, param.type),
      });
      continue;
    }
    inputs[param.id] = value;
  }
  // Extra job fields are allowed: a job may serve several tools.
  if (problems.length) {
    throw new JobInputError(`invalid job: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  }

  // Formats written with a namespace prefix (`edam:format_2330`) become full IRIs.
  visitFsObjects(inputs, (obj) => {
    if (typeof obj.format === 'string') obj.format = expandFormatPrefix(obj.format, process.namespaces);
  });
  const walk: Walk = { evaluator, context: { inputs, self: null, runtime: {} }, process, hasSchemas: process.schemas.length > 0 };
  for (const param of process.inputs) completeValue(inputs[param.id], param.type, param, walk, param.id);
  return inputs;
}

