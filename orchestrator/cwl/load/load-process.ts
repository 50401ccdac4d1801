import path from 'node:path';
import { createHash } from 'node:crypto';
import { CWL_REQUIREMENT_CLASSES as KNOWN_REQUIREMENTS, type Process } from '../model.ts';
import { CwlLoadError, lineOfPath } from './cwl-load-error.ts';
import { normalizeProcess, shortName, type NormalizeContext } from './normalize.ts';
import { readYamlFile, resolveDirectives, splitFragment, toLocalPath, type Json, type JsonObject } from './read-document.ts';

const PROCESS_CLASSES = ['CommandLineTool', 'ExpressionTool', 'Workflow', 'Operation'];
const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Turns cwl-ts-auto's validation report (every alternative it tried, for every process class) into
 * one issue per bad field of the document's own class: the field's path and the first expectation
 * that is not "absent".
 */
export function condenseValidationReport(report: string, cls: string): { path: string; message: string }[] {
  const lines = report.split('\n');
  const begin = lines.findIndex((l) => l.trim() === `Trying '${cls}'`);
  if (begin < 0) return [{ path: '(document)', message: lines.find((l) => /Expected/.test(l))?.trim() ?? 'not a CWL process' }];
  let end = lines.findIndex((l, i) => i > begin && /^tried /.test(l));
  if (end < 0) end = lines.length;
  const section = lines.slice(begin + 1, end);
  const indent = (l: string) => l.length - l.trimStart().length;
  const top = Math.min(...section.filter((l) => l.trim()).map(indent));
  const issues: { path: string; message: string }[] = [];
  for (let i = 0; i < section.length; i++) {
    const line = section[i]!;
    if (indent(line) !== top) continue;
    const invalid = /invalid field (\S+?),\s+expected one of: (.*)$/.exec(line.trim());
    if (invalid) {
      issues.push({ path: invalid[1]!, message: `unknown field (expected one of ${invalid[2]!.replace(/`/g, '')})` });
      continue;
    }
    const field = /the `(\w+)` field is not valid/.exec(line)?.[1];
    if (!field) continue;
    const path = [field];
    let message = 'invalid value';
    for (let j = i + 1; j < section.length && indent(section[j]!) > top; j++) {
      const nested = /the `(\w+)` field is not valid/.exec(section[j]!)?.[1];
      if (nested && !path.includes(nested)) {
        path.push(nested);
        message = 'invalid value'; // What the innermost field expects says most.
      }
      const expected = section[j]!.trim();
      if (/^Expected/.test(expected) && !/Undefined/.test(expected)) {
        // The most telling expectation names what was found instead ("... but got number").
        if (message === 'invalid value' || (/but got/.test(expected) && !/but got/.test(message))) message = expected.replace(/^Expected/, 'expected');
      }
      const unknown = /invalid field (\S+?),\s+expected one of: (.*)$/.exec(expected);
      if (unknown) message = `unknown field ${unknown[1]} (expected one of ${unknown[2]!.replace(/`/g, '')})`;
    }
    issues.push({ path: path.join('.'), message });
  }
  return issues.length ? issues : [{ path: '(document)', message: 'invalid CWL document' }];
}

/**
 * Structure check with cwl-ts-auto, on the document after our own `$import`/`$include` resolution (so it
 * never fetches anything). Its known false alarm, `secondaryFiles: {pattern}` on workflow inputs, is
 * skipped by checking a copy without those entries.
 */
async function checkStructure(document: JsonObject, file: string, text: string, cache?: StructureCheckCache) {
  const copy = JSON.parse(JSON.stringify(document)) as JsonObject;
  delete copy.$schemas;
  stripWorkflowInputSecondaryFiles(copy);
  stripUnknownRequirements(copy);
  const json = JSON.stringify(copy);
  const key = cache ? createHash('sha256').update(CHECKER_VERSION).update('\0').update(json).digest('hex') : '';
  if (cache?.has(key)) return;
  try {
    // Loaded on demand: it is the largest part of start-up, and a cached check does not need it.
    const { loadDocumentByString } = await import('cwl-ts-auto');
    await loadDocumentByString(json, `file://${file}`);
    cache?.add(key);
  } catch (error) {
    const issues = condenseValidationReport(String(error), String(document.class ?? '')).map((issue) => {
      const line = lineOfPath(text, issue.path.split('.'));
      return { ...issue, ...(line ? { line } : {}) };
    });
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new CwlLoadError(file, `invalid CWL document: ${summary}`, issues, { cause: error });
  }
}

/**
 * Requirements of classes cwl-ts-auto does not know would fail the whole document as malformed; the
 * runtime answers them instead (unsupported in `requirements`: exit 33; ignored in `hints`).
 */
function stripUnknownRequirements(node: Json) {
  if (Array.isArray(node)) return node.forEach(stripUnknownRequirements);
  if (!isObject(node)) return;
  for (const key of ['requirements', 'hints']) {
    const list = node[key];
    if (Array.isArray(list)) node[key] = list.filter((r) => !isObject(r) || typeof r.class !== 'string' || KNOWN_REQUIREMENTS.has(shortName(r.class)));
    else if (isObject(list)) for (const cls of Object.keys(list)) if (!KNOWN_REQUIREMENTS.has(shortName(cls))) delete list[cls];
  }
  Object.values(node).forEach(stripUnknownRequirements);
}

function stripWorkflowInputSecondaryFiles(node: Json) {
  if (Array.isArray(node)) return node.forEach(stripWorkflowInputSecondaryFiles);
  if (!isObject(node)) return;
  if (node.class === 'Workflow') {
    const inputs = node.inputs;
    const list = Array.isArray(inputs) ? inputs : isObject(inputs) ? Object.values(inputs) : [];
    for (const input of list) if (isObject(input)) delete input.secondaryFiles;
  }
  Object.values(node).forEach(stripWorkflowInputSecondaryFiles);
}

/**
 * Remembers documents that passed the structure check (by a hash of their resolved content), so that
 * running the same tool again skips it. Only successes are recorded.
 */
export interface StructureCheckCache {
  has(key: string): boolean;
  add(key: string): void;
}

/** Part of every cache key: a new checker may judge documents differently. */
const CHECKER_VERSION = 'cwl-ts-auto@0.1.3';

export interface LoadOptions {
  structureCache?: StructureCheckCache;
}

/**
 * Loads a CWL process from `file.cwl` or `file.cwl#id` (a packed `$graph` document without a fragment
 * runs its `#main`), resolving imports, includes, schema types and step `run` references.
 */
export async function loadCwlProcess(reference: string, cwd = process.cwd(), options: LoadOptions = {}): Promise<Process> {
  const [fileRef, fragment] = splitFragment(reference);
  const file = toLocalPath(fileRef, cwd);
  const read = readYamlFile(file);
  const document = resolveDirectives(read.value, file);
  if (!isObject(document)) throw new CwlLoadError(file, 'a CWL document must be a mapping (or a $graph)');
  if (!Array.isArray(document.$graph) && !PROCESS_CLASSES.includes(String(document.class))) {
    const line = lineOfPath(read.text, ['class']);
    const message = `expected one of ${PROCESS_CLASSES.join(', ')}, got ${JSON.stringify(document.class ?? null)}`;
    throw new CwlLoadError(file, `class: ${message}`, [{ path: 'class', message, ...(line ? { line } : {}) }]);
  }
  await checkStructure(document, file, read.text, options.structureCache);

  const graph = Array.isArray(document.$graph) ? document.$graph.filter(isObject) : undefined;
  const rootVersion = typeof document.cwlVersion === 'string' ? document.cwlVersion : undefined;
  const namespaces = isObject(document.$namespaces) ? (document.$namespaces as Record<string, string>) : {};
  const byId = new Map<string, JsonObject>();
  for (const entry of graph ?? []) if (typeof entry.id === 'string') byId.set(shortName(entry.id.replace(/^#/, '')), entry);

  // The documents being loaded, outermost first, each with the step field that runs the next one: a
  // step that runs one of them again would recurse without end (a workflow running itself).
  const chain: { key: string; file: string; via?: string }[] = [];
  const shown = (f: string) => (path.relative(path.dirname(file), f).startsWith('..') ? f : path.relative(path.dirname(file), f) || path.basename(f));
  const nested = <T>(key: string, docFile: string, load: () => T): T => {
    chain.push({ key, file: docFile });
    try {
      return load();
    } finally {
      chain.pop();
    }
  };
  const enter = (key: string, step: { field: string; id: string }, runRef: string, runContext: NormalizeContext) => {
    const from = chain.findIndex((c) => c.key === key);
    if (from >= 0) {
      const steps = [...chain.slice(from, -1).map((c) => `${shown(c.file)} ${c.via}`), `${shown(runContext.file)} ${step.field}`];
      const message = `a workflow cannot run itself, directly or through other files: ${[...steps, shown(chain[from]!.file)].join(' → ')}`;
      const line = runContext.text ? lineOfPath(runContext.text, ['steps', step.id, 'run']) : undefined;
      throw new CwlLoadError(runContext.file, `${step.field}: ${message}`, [{ path: step.field, message, ...(line ? { line } : {}) }]);
    }
    chain.at(-1)!.via = step.field;
  };
  const context: NormalizeContext = {
    file,
    text: read.text,
    cwlVersion: rootVersion ?? 'v1.2',
    namespaces,
    schemas: Array.isArray(document.$schemas) ? document.$schemas.map(String) : [],
    types: new Map(),
    inherited: [],
    resolveRun(runRef, runContext, step) {
      if (runRef.startsWith('#')) {
        const entry = byId.get(shortName(runRef.slice(1)));
        if (!entry) throw new CwlLoadError(file, `run: no process "${runRef}" in this document`);
        const key = `${file}#${shortName(runRef.slice(1))}`;
        enter(key, step, runRef, runContext);
        return nested(key, file, () => normalizeProcess(entry, { ...runContext, cwlVersion: rootVersion ?? runContext.cwlVersion }));
      }
      const [runFile, runFragment] = splitFragment(toLocalPath(runRef, path.dirname(runContext.file)));
      const runRead = readYamlFile(runFile);
      let runDoc = resolveDirectives(runRead.value, runFile);
      let key = runFile;
      if (isObject(runDoc) && Array.isArray(runDoc.$graph)) {
        const wanted = runFragment ?? 'main';
        runDoc = runDoc.$graph.find((e) => isObject(e) && typeof e.id === 'string' && shortName(e.id.replace(/^#/, '')) === wanted) ?? null;
        if (!runDoc) throw new CwlLoadError(runFile, `no process "#${wanted}" in the $graph`);
        key = `${runFile}#${wanted}`;
      }
      enter(key, step, runRef, runContext);
      const loaded = runDoc;
      return nested(key, runFile, () => normalizeProcess(loaded, { ...runContext, file: runFile, text: runRead.text, namespaces: {}, types: new Map() }));
    },
  };

  if (graph) {
    const wanted = fragment ?? 'main';
    const entry = byId.get(wanted) ?? (graph.length === 1 && !fragment ? graph[0] : undefined);
    if (!entry) {
      const ids = [...byId.keys()].map((id) => `#${id}`).join(', ');
      throw new CwlLoadError(file, `no process "#${wanted}" in the $graph; choose one of ${ids} with ${fileRef}#<id>`);
    }
    const id = typeof entry.id === 'string' ? shortName(entry.id.replace(/^#/, '')) : wanted;
    return nested(`${file}#${id}`, file, () => normalizeProcess(entry, context));
  }
  if (fragment && (typeof document.id !== 'string' || shortName(document.id) !== fragment.replace(/^#/, ''))) {
    throw new CwlLoadError(file, `no process "#${fragment}" in the document`);
  }
  return nested(file, file, () => normalizeProcess(document, context));
}
