import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CwlType, OutputBinding, Parameter, Process, SecondaryFileSpec } from '../model.ts';
import { ProcessFailedError } from './cwl-errors.ts';
import { globRelative } from './glob-outdir.ts';
import type { EvalContext, Evaluator } from './evaluation.ts';
import { isFsObject, listDirectory, locationToPath, readContents, withPathFields, type FsObject } from './file-objects.ts';
import { defaultLoadListing, discoverSecondaryFiles } from './prepare-inputs.ts';
import { allowsNull, conforms, describeType } from './types.ts';

interface OutputSpec {
  type: CwlType;
  outputBinding?: OutputBinding;
  secondaryFiles?: SecondaryFileSpec[];
  format?: unknown;
  loadListing?: Parameter['loadListing'];
}

interface Collect {
  process: Process;
  evaluator: Evaluator;
  context: EvalContext;
  outdir: string;
  /** Where output symlinks may point besides the output directory (the job's own folders, inputs). */
  allowedRoots: string[];
  /** The glob patterns of each output whose globs matched nothing. */
  misses: Map<string, string[]>;
}

/** An output that is a symlink must point inside the output directory or at an input, never elsewhere on the host. */
function checkSymlink(full: string, c: Collect) {
  if (!lstatSync(full).isSymbolicLink()) return;
  const target = realpathSync(full);
  const inside = (root: string) => target === root || target.startsWith(realpathSync(root) + path.sep);
  if (!inside(c.outdir) && !c.allowedRoots.some((root) => existsSync(root) && inside(root))) {
    throw new ProcessFailedError(`output ${path.relative(c.outdir, full)} is a symlink to ${target}, outside the output directory`);
  }
}

/** The files a glob names in the output directory, sorted; absolute patterns must stay inside it. */
function globFiles(pattern: string, c: Collect, spec: OutputSpec): FsObject[] {
  let relative = pattern;
  if (path.isAbsolute(pattern)) {
    if (!pattern.startsWith(c.outdir)) throw new ProcessFailedError(`output glob "${pattern}" is outside the output directory`);
    relative = path.relative(c.outdir, pattern) || '.';
  }
  const matches = relative === '.' || relative === '' ? [c.outdir] : globRelative(c.outdir, relative).map((m) => path.join(c.outdir, m));
  for (const full of matches) checkSymlink(full, c);
  const depth = defaultLoadListing(c.process, { loadListing: spec.outputBinding?.loadListing ?? spec.loadListing });
  return matches.map((full) => {
    if (statSync(full).isDirectory()) {
      const dir = withPathFields({ class: 'Directory' }, full);
      dir.listing = listDirectory(full, depth === 'no_listing' ? 'deep_listing' : depth);
      return dir;
    }
    return withPathFields({ class: 'File', size: statSync(full).size }, full);
  });
}

function collectOne(spec: OutputSpec, c: Collect, what: string): unknown {
  const binding = spec.outputBinding;
  if (!binding) {
    const type = spec.type;
    if (typeof type === 'object' && !Array.isArray(type) && type.type === 'record') {
      return Object.fromEntries(type.fields.map((f) => [f.name, collectOne(f, c, `${what}.${f.name}`)]));
    }
    return null;
  }
  let result: unknown = null;
  if (binding.glob !== undefined) {
    const globs = c.evaluator.evaluate(binding.glob, c.context, { field: `outputs.${what}.outputBinding.glob` });
    const patterns = (Array.isArray(globs) ? globs : [globs]).filter((g) => g !== null && g !== undefined);
    const files: FsObject[] = [];
    for (const g of patterns) {
      if (typeof g !== 'string') throw new ProcessFailedError(`${what}: glob must evaluate to strings, got ${JSON.stringify(g)}`);
      for (const f of globFiles(g, c, spec)) if (!files.some((x) => x.path === f.path)) files.push(f);
    }
    if (!files.length) c.misses.set(what, patterns as string[]);
    if (binding.loadContents) for (const f of files) if (f.class === 'File') f.contents = readContents(String(f.path), what);
    result = files;
  }
  if (binding.outputEval !== undefined) {
    result = c.evaluator.evaluate(binding.outputEval, { ...c.context, self: result ?? [] }, { field: `outputs.${what}.outputBinding.outputEval` });
  } else if (Array.isArray(result)) {
    result = singleOrList(result as FsObject[], spec.type, what);
  }
  return result;
}

/** A glob's list becomes one File or Directory when the type wants a single one (CWL's rule). */
function singleOrList(files: FsObject[], type: CwlType, what: string): unknown {
  const isFsType = (t: CwlType) => t === 'File' || t === 'Directory';
  const isArrayType = (t: CwlType) => typeof t === 'object' && !Array.isArray(t) && t.type === 'array';
  const single = Array.isArray(type) ? type.some(isFsType) && !type.some(isArrayType) : isFsType(type);
  if (!single) return files;
  if (files.length > 1) throw new ProcessFailedError(`${what}: the glob matched ${files.length} files for an output that holds one`);
  return files[0] ?? null;
}

/** Applies secondaryFiles and format to the files of an output value. */
function completeOutput(value: unknown, spec: OutputSpec, c: Collect, what: string) {
  if (Array.isArray(value)) return value.forEach((v, i) => completeOutput(v, spec, c, `${what}[${i}]`));
  if (!isFsObject(value)) {
    const type = spec.type;
    if (value && typeof value === 'object' && typeof type === 'object' && !Array.isArray(type) && type.type === 'record') {
      for (const f of type.fields) completeOutput((value as Record<string, unknown>)[f.name], f, c, `${what}.${f.name}`);
    }
    return;
  }
  if (value.class === 'File' && spec.secondaryFiles?.length) {
    // Secondary files of outputs are collected when present; none is required.
    discoverSecondaryFiles(value, spec.secondaryFiles, c.evaluator, c.context, what, null, `outputs.${what}`);
  }
  if (spec.format !== undefined && spec.format !== null && value.class === 'File') {
    value.format = c.evaluator.evaluate(spec.format, { ...c.context, self: value }, { field: `outputs.${what}.format` });
  }
}

/** Resolves the File/Directory objects a tool reported (cwl.output.json or an expression) against its directory. */
export function resolveReported(value: unknown, baseDir: string, hostPath: (p: string) => string = (p) => p): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveReported(v, baseDir, hostPath));
  if (isFsObject(value)) {
    const location = (value.path ?? value.location) as string | undefined;
    if (location === undefined) return value;
    const full = hostPath(locationToPath(location, baseDir));
    const out = withPathFields({ ...value }, full);
    if (typeof value.basename === 'string') out.basename = value.basename;
    if (out.class === 'File' && existsSync(full)) out.size = statSync(full).size;
    if (Array.isArray(value.secondaryFiles)) out.secondaryFiles = resolveReported(value.secondaryFiles, baseDir, hostPath);
    if (Array.isArray(value.listing)) out.listing = resolveReported(value.listing, baseDir, hostPath);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReported(v, baseDir, hostPath)]));
  }
  return value;
}

/**
 * Checks each output against its declared type; a mismatch fails the step, naming the output.
 * A workflow's output may be null whatever its type: a skipped conditional step gives null, which the
 * reference runner passes through (its static checker only warns).
 */
export function checkOutputs(process: Process, outputs: Record<string, unknown>) {
  const problems: string[] = [];
  for (const param of process.outputs) {
    const value = outputs[param.id] ?? null;
    // An `Any` output may be null (unlike an `Any` input), as in the reference runner.
    const anyOrNull = value === null && (process.class === 'Workflow' || param.type === 'Any' || (Array.isArray(param.type) && param.type.includes('Any')));
    if (!anyOrNull && !conforms(value, param.type)) {
      problems.push(value === null && !allowsNull(param.type) ? `${param.id}: no value for a required output` : `${param.id}: expected ${describeType(param.type)}, got ${JSON.stringify(value)?.slice(0, 200)}`);
    }
  }
  if (problems.length) throw new ProcessFailedError(`invalid outputs: ${problems.join('; ')}`);
}

/** Collects a command-line tool's outputs from its output directory. */
export function collectOutputs(
  process: Process,
  evaluator: Evaluator,
  context: EvalContext,
  outdir: string,
  allowedRoots: string[],
  /** Maps paths a containerised tool wrote in cwl.output.json back to the host. */
  hostPath?: (p: string) => string,
): Record<string, unknown> {
  const reported = path.join(outdir, 'cwl.output.json');
  if (existsSync(reported)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(reported, 'utf8'));
    } catch (error) {
      throw new ProcessFailedError(`cwl.output.json is not valid JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ProcessFailedError(`cwl.output.json must hold an object of outputs, got ${JSON.stringify(parsed)?.slice(0, 200)}`);
    }
    // Passed through as written, as the reference runner does: fields it leaves out stay out, others stay in.
    return resolveReported(parsed, outdir, hostPath) as Record<string, unknown>;
  }
  const c: Collect = { process, evaluator, context, outdir, allowedRoots, misses: new Map() };
  const outputs: Record<string, unknown> = {};
  for (const param of process.outputs) {
    const value = collectOne(param, c, param.id);
    completeOutput(value, param, c, param.id);
    outputs[param.id] = value;
  }
  // A required output left empty by its globs: say what was looked for, and where.
  const missing = process.outputs.flatMap((param) => {
    const patterns = c.misses.get(param.id);
    if (!patterns || outputs[param.id] !== null || allowsNull(param.type) || param.type === 'Any') return [];
    const globs = patterns.length ? patterns.map((p) => JSON.stringify(p)).join(', ') : '(no pattern)';
    return [`${param.id}: no value for a required output: glob ${globs} matched nothing in ${outdir}`];
  });
  if (missing.length) throw new ProcessFailedError(`invalid outputs: ${missing.join('; ')}`);
  return outputs;
}
