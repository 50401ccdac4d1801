import path from 'node:path';
import { createHash } from 'node:crypto';
import { CWL_REQUIREMENT_CLASSES as KNOWN_REQUIREMENTS, type Process } from '../model.ts';
import { CwlLoadError, issueAt } from './cwl-load-error.ts';
import { normalizeProcess, shortName, type NormalizeContext } from './normalize.ts';
import { explainValidationReport, describePath } from './validation-report.ts';
import { positionOf } from './yaml-positions.ts';
import { readYamlFile, resolveDirectives, splitFragment, toLocalPath, type Json, type JsonObject } from './read-document.ts';

const PROCESS_CLASSES = ['CommandLineTool', 'ExpressionTool', 'Workflow', 'Operation'];
const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

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
    const found = explainValidationReport(String(error), document);
    // Unknown fields first: a misspelt key is also why a required one is missing.
    found.sort((a, b) => (a.at === b.at ? 0 : a.at === 'key' ? -1 : 1));
    const issues = found.map((issue) => {
      const position = positionOf(text, issue.path, issue.at);
      return { path: describePath(document, issue.path), message: issue.message, ...(position ? { line: position.line, column: position.column } : {}) };
    });
    // The first issue's position leads the message (`file:line:column: path: ...`); the others carry theirs.
    const summary = issues.map((i, n) => `${n && i.line ? `${i.line}:${i.column}: ` : ''}${i.path}: ${i.message}`).join('; ');
    throw new CwlLoadError(file, summary, issues, { cause: error });
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
    const message = `expected one of ${PROCESS_CLASSES.join(', ')}, got ${JSON.stringify(document.class ?? null)}`;
    throw new CwlLoadError(file, `class: ${message}`, [issueAt(read.text, 'class', message)]);
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
  const enter = (key: string, step: { field: string; id: string; at: string }, runRef: string, runContext: NormalizeContext) => {
    const from = chain.findIndex((c) => c.key === key);
    if (from >= 0) {
      const steps = [...chain.slice(from, -1).map((c) => `${shown(c.file)} ${c.via}`), `${shown(runContext.file)} ${step.field}`];
      const message = `a workflow cannot run itself, directly or through other files: ${[...steps, shown(chain[from]!.file)].join(' → ')}`;
      throw new CwlLoadError(runContext.file, `${step.field}: ${message}`, [{ ...issueAt(runContext.text, step.at, message), path: step.field }]);
    }
    chain.at(-1)!.via = step.field;
  };
  // A `$graph` entry's fields are found in the text under its place in the list.
  const inGraph = (entry: JsonObject, entries: Json[]) => ({ shownAt: '', textAt: `$graph[${entries.indexOf(entry)}].` });
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
        return nested(key, file, () =>
          normalizeProcess(entry, { ...runContext, ...inGraph(entry, document.$graph as Json[]), file, text: read.text, cwlVersion: rootVersion ?? runContext.cwlVersion }),
        );
      }
      const [runFile, runFragment] = splitFragment(toLocalPath(runRef, path.dirname(runContext.file)));
      const runRead = readYamlFile(runFile);
      let runDoc = resolveDirectives(runRead.value, runFile);
      let key = runFile;
      let at = { shownAt: '', textAt: '' };
      if (isObject(runDoc) && Array.isArray(runDoc.$graph)) {
        const wanted = runFragment ?? 'main';
        const entries = runDoc.$graph;
        runDoc = entries.find((e) => isObject(e) && typeof e.id === 'string' && shortName(e.id.replace(/^#/, '')) === wanted) ?? null;
        if (!isObject(runDoc)) throw new CwlLoadError(runFile, `no process "#${wanted}" in the $graph`);
        at = inGraph(runDoc, entries);
        key = `${runFile}#${wanted}`;
      }
      enter(key, step, runRef, runContext);
      const loaded = runDoc;
      return nested(key, runFile, () => normalizeProcess(loaded, { ...runContext, ...at, file: runFile, text: runRead.text, namespaces: {}, types: new Map() }));
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
    return nested(`${file}#${id}`, file, () => normalizeProcess(entry, { ...context, ...inGraph(entry, document.$graph as Json[]) }));
  }
  if (fragment && (typeof document.id !== 'string' || shortName(document.id) !== fragment.replace(/^#/, ''))) {
    throw new CwlLoadError(file, `no process "#${fragment}" in the document`);
  }
  return nested(file, file, () => normalizeProcess(document, context));
}
