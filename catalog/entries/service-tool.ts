import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInputError, type InputIssue } from '../../core/index.ts';
import { CwlLoadError, loadCwlProcess, parseYaml, YamlProblem, type CwlType, type Parameter } from '../../orchestrator/index.ts';
import type { ToolParameter, ToolType } from './catalog-entry.ts';

/** Where the CWL text sits in an entry: the prefix of every issue about it. */
const FIELD = 'spec.cwl';
/** Values the parsed document may hold, aliases expanded: stops YAML alias bombs before anything expands them. */
const MAX_VALUES = 50_000;
/** Directives that make the loader read other files: a catalog entry must be self-contained. */
const FILE_DIRECTIVES = new Set(['$import', '$include', '$mixin']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The 1-based line of the first line of `text` that matches `pattern`. */
function lineOf(text: string, pattern: RegExp): number | undefined {
  const index = text.split('\n').findIndex((line) => pattern.test(line));
  return index < 0 ? undefined : index + 1;
}

function invalid(message: string, line?: number, cwlPath?: string): InvalidInputError {
  const issue: InputIssue = { path: cwlPath ? `${FIELD}:${cwlPath}` : FIELD, message, ...(line ? { line } : {}) };
  const where = line ? `${FIELD} line ${line}` : FIELD;
  return new InvalidInputError(`${where}: ${cwlPath ? `${cwlPath}: ` : ''}${message}`, [issue]);
}

/**
 * Checks what the loader cannot be trusted with: the text must be one self-contained CommandLineTool —
 * no `$import`/`$include` (they would read files of this node into the entry), no `$graph` — and of a
 * bounded size once YAML aliases are counted.
 */
function precheck(text: string): Record<string, Json> {
  let document: unknown;
  try {
    document = parseYaml(text, { maxValues: MAX_VALUES });
  } catch (error) {
    if (error instanceof YamlProblem) throw invalid(error.summary, error.line);
    throw error;
  }
  if (!isObject(document)) throw invalid('must be a CWL document (a YAML or JSON mapping)');
  const walk = (node: Json) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        if (FILE_DIRECTIVES.has(key)) {
          const escaped = key.replace(/\$/g, '\\$');
          throw invalid(`${key} is not allowed: a catalog entry's CWL document must be self-contained`, lineOf(text, new RegExp(`["']?${escaped}["']?\\s*:`)));
        }
        walk(value);
      }
    }
  };
  walk(document as Json);
  if (Array.isArray(document.$graph)) throw invalid('a packed ($graph) document is not accepted: give one CommandLineTool', lineOf(text, /\$graph/));
  if (document.class !== 'CommandLineTool') {
    throw invalid(`must be a CommandLineTool, got ${JSON.stringify(document.class ?? null)}`, lineOf(text, /^\s*["']?class["']?\s*:/), 'class');
  }
  return document;
}

function toolType(type: CwlType): ToolType {
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.map(toolType);
  switch (type.type) {
    case 'array':
      return { type: 'array', items: toolType(type.items) };
    case 'enum':
      return { type: 'enum', ...(type.name ? { name: type.name } : {}), symbols: [...type.symbols] };
    case 'record':
      return {
        type: 'record',
        ...(type.name ? { name: type.name } : {}),
        fields: type.fields.map((f) => ({ name: f.name, type: toolType(f.type), ...(typeof f.doc === 'string' ? { doc: f.doc } : {}) })),
      };
  }
}

const nullable = (type: CwlType) => type === 'null' || (Array.isArray(type) && type.includes('null'));
const shortId = (id: string) => id.replace(/^.*[#/]/, '');
const docText = (doc: Json | undefined) =>
  typeof doc === 'string' ? doc : Array.isArray(doc) && doc.every((d) => typeof d === 'string') ? doc.join('\n') : undefined;

/** `label` and `doc` of each parameter, read from the document (the normalised model keeps neither). */
function annotations(raw: Json | undefined): Map<string, { label?: string; doc?: string }> {
  const found = new Map<string, { label?: string; doc?: string }>();
  const add = (id: string, value: Json) => {
    if (!isObject(value)) return;
    const label = typeof value.label === 'string' ? value.label : undefined;
    const doc = docText(value.doc);
    found.set(shortId(id), { ...(label ? { label } : {}), ...(doc ? { doc } : {}) });
  };
  if (Array.isArray(raw)) for (const p of raw) if (isObject(p) && typeof p.id === 'string') add(p.id, p);
  if (isObject(raw)) for (const [id, p] of Object.entries(raw)) add(id, p);
  return found;
}

function toParameters(params: Parameter[], raw: Json | undefined, kind: 'input' | 'output'): ToolParameter[] {
  const notes = annotations(raw);
  return params.map((p) => ({
    id: p.id,
    type: toolType(p.type),
    required: kind === 'input' ? !nullable(p.type) && p.default === undefined : !nullable(p.type),
    ...notes.get(p.id),
    ...(p.default !== undefined ? { default: p.default } : {}),
  }));
}

/**
 * Loads a service entry's CWL tool with the orchestrator's loader (the same checks a run makes) and returns
 * its inputs and outputs. Problems are `InvalidInputError`s whose issues name `spec.cwl`, the CWL field
 * and, where known, the line.
 */
export async function loadServiceTool(cwl: string): Promise<{ inputs: ToolParameter[]; outputs: ToolParameter[] }> {
  const raw = precheck(cwl);
  // The loader reads files; the document gets a private directory of its own, removed afterwards.
  const dir = await mkdtemp(path.join(tmpdir(), 'archipel-catalog-'));
  const file = path.join(dir, 'tool.cwl');
  try {
    await writeFile(file, cwl, { mode: 0o600 });
    const tool = await loadCwlProcess(file, dir);
    if (tool.class !== 'CommandLineTool') throw invalid(`must be a CommandLineTool, got ${tool.class}`, undefined, 'class');
    return { inputs: toParameters(tool.inputs, raw.inputs, 'input'), outputs: toParameters(tool.outputs, raw.outputs, 'output') };
  } catch (error) {
    if (error instanceof CwlLoadError) {
      const issues: InputIssue[] = error.issues.map(({ file: _file, ...issue }) => ({
        ...issue,
        path: issue.path && issue.path !== '(document)' ? `${FIELD}:${issue.path}` : FIELD,
      }));
      const message = error.message.replaceAll(`${file}:`, `${FIELD} line `).replaceAll(file, FIELD);
      throw new InvalidInputError(message, issues.length ? issues : [{ path: FIELD, message }], { cause: error });
    }
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
