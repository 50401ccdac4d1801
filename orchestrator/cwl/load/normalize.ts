import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type {
  Binding,
  CommandLineTool,
  CwlType,
  ExpressionTool,
  LoadListing,
  OutputBinding,
  Parameter,
  Process,
  ProcessBase,
  RecordField,
  Requirement,
  SecondaryFileSpec,
  Workflow,
  WorkflowStep,
  WorkflowStepInput,
} from '../model.ts';
import { findStepCycle } from '../source-ref.ts';
import { CwlLoadError, issueAt } from './cwl-load-error.ts';
import type { Json, JsonObject } from './read-document.ts';

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'string', 'File', 'Directory', 'Any']);
export const SUPPORTED_VERSIONS = new Set(['v1.0', 'v1.1', 'v1.2']);

export interface NormalizeContext {
  file: string;
  /** The file's text, to find the line and column of a field in errors. */
  text?: string;
  /**
   * Where the process being read sits, as a path prefix ending in `.` (or empty): in messages (an inline
   * `run:` is named `steps[0].run.`), and in the text (which also counts a `$graph` entry: `$graph[1].`).
   */
  shownAt?: string;
  textAt?: string;
  cwlVersion: string;
  namespaces: Record<string, string>;
  /** Named types from SchemaDefRequirement, by short name. */
  types: Map<string, CwlType>;
  /**
   * Resolves a step's `run` reference (a path or `#id`) to a process. `step` locates it in the current
   * document: its field for messages (`steps[0].run`), the step's id, and its path in the text.
   */
  resolveRun(reference: string, context: NormalizeContext, step: { field: string; id: string; at: string }): Process;
  schemas: string[];
  /** Requirements inherited from enclosing workflows, for SchemaDefRequirement lookups. */
  inherited: Requirement[];
}

const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

export function shortName(id: string): string {
  const afterHash = id.includes('#') ? id.slice(id.lastIndexOf('#') + 1) : id;
  return afterHash.includes('/') ? afterHash.slice(afterHash.lastIndexOf('/') + 1) : afterHash;
}

function fail(context: NormalizeContext, field: string, message: string): never {
  const shown = `${context.shownAt ?? ''}${field}`;
  const issue = issueAt(context.text, `${context.textAt ?? ''}${field}`, message);
  throw new CwlLoadError(context.file, `${shown}: ${message}`, [{ ...issue, path: shown }]);
}

/** A list given as an array or as a map keyed by `keyField` (the CWL "map" shorthand). */
function listOf(value: Json | undefined, keyField: string, valueField: string | undefined, context: NormalizeContext, field: string): JsonObject[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      if (isObject(item)) return item;
      if (typeof item === 'string' && keyField === 'class') return { class: item };
      return fail(context, `${field}[${i}]`, 'expected an object');
    });
  }
  if (isObject(value)) {
    return Object.entries(value).map(([key, item]) => {
      if (isObject(item)) return { [keyField]: key, ...item };
      if (valueField) return { [keyField]: key, [valueField]: item };
      return fail(context, `${field}.${key}`, 'expected an object');
    });
  }
  return fail(context, field, 'expected a list or a map');
}

export function expandFormat(value: Json | undefined, context: NormalizeContext): unknown {
  if (typeof value === 'string') {
    const colon = value.indexOf(':');
    if (colon > 0 && !value.includes('://') && !value.startsWith('$')) {
      const ns = context.namespaces[value.slice(0, colon)];
      if (ns) return ns + value.slice(colon + 1);
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => expandFormat(v, context));
  return value ?? undefined;
}

export function normalizeType(raw: Json | undefined, context: NormalizeContext, field: string): CwlType {
  if (raw === undefined || raw === null) return fail(context, field, 'missing type');
  if (Array.isArray(raw)) return raw.map((t, i) => normalizeType(t, context, `${field}[${i}]`));
  if (typeof raw === 'string') {
    if (raw.endsWith('?')) return ['null', normalizeType(raw.slice(0, -1), context, field)];
    if (raw.endsWith('[]')) return { type: 'array', items: normalizeType(raw.slice(0, -2), context, field) };
    if (PRIMITIVES.has(raw)) return raw as CwlType;
    const expanded = raw.replace(/^https?:\/\/www\.w3\.org\/2001\/XMLSchema#/, '').replace(/^.*#/, '');
    if (PRIMITIVES.has(expanded)) return expanded as CwlType;
    const named = context.types.get(shortName(raw)) ?? context.types.get(expanded);
    if (named) return named;
    return fail(context, field, `unknown type "${raw}"`);
  }
  if (!isObject(raw)) return fail(context, field, 'invalid type');
  const binding = raw.inputBinding ? normalizeBinding(raw.inputBinding, context, `${field}.inputBinding`) : undefined;
  switch (raw.type) {
    case 'array':
      return { type: 'array', items: normalizeType(raw.items, context, `${field}.items`), ...(binding ? { inputBinding: binding } : {}) };
    case 'enum': {
      if (!Array.isArray(raw.symbols)) return fail(context, `${field}.symbols`, 'an enum needs a list of symbols');
      const type = {
        type: 'enum' as const,
        ...(typeof raw.name === 'string' ? { name: shortName(raw.name) } : {}),
        symbols: raw.symbols.map((s) => shortName(String(s))),
        ...(binding ? { inputBinding: binding } : {}),
      };
      return type;
    }
    case 'record': {
      const fields = listOf(raw.fields, 'name', 'type', context, `${field}.fields`).map((f, i) => normalizeField(f, context, `${field}.fields[${i}]`));
      return { type: 'record', ...(typeof raw.name === 'string' ? { name: shortName(raw.name) } : {}), fields, ...(binding ? { inputBinding: binding } : {}) };
    }
    default:
      if (raw.type !== undefined) return normalizeType(raw.type, context, `${field}.type`);
      return fail(context, field, `unknown type ${JSON.stringify(raw)}`);
  }
}

function normalizeField(raw: JsonObject, context: NormalizeContext, field: string): RecordField {
  const name = typeof raw.name === 'string' ? raw.name : typeof raw.id === 'string' ? raw.id : fail(context, field, 'a record field needs a name');
  return {
    name: shortName(name),
    type: normalizeType(raw.type, context, `${field}.type`),
    ...(raw.inputBinding ? { inputBinding: normalizeBinding(raw.inputBinding, context, `${field}.inputBinding`) } : {}),
    ...(raw.outputBinding ? { outputBinding: normalizeOutputBinding(raw.outputBinding) } : {}),
    ...(raw.secondaryFiles !== undefined ? { secondaryFiles: normalizeSecondaryFiles(raw.secondaryFiles, context, field) } : {}),
    ...(raw.format !== undefined ? { format: expandFormat(raw.format, context) } : {}),
    ...(typeof raw.loadContents === 'boolean' ? { loadContents: raw.loadContents } : {}),
    ...(typeof raw.loadListing === 'string' ? { loadListing: raw.loadListing as LoadListing } : {}),
  };
}

function normalizeBinding(raw: Json, context: NormalizeContext, field: string): Binding {
  if (!isObject(raw)) return fail(context, field, 'expected an object');
  const b: Binding = {};
  if (raw.position !== undefined) {
    if (typeof raw.position !== 'number' && typeof raw.position !== 'string') fail(context, `${field}.position`, 'must be an int or an expression');
    b.position = raw.position as number | string;
  }
  if (typeof raw.prefix === 'string') b.prefix = raw.prefix;
  if (typeof raw.separate === 'boolean') b.separate = raw.separate;
  if (typeof raw.itemSeparator === 'string') b.itemSeparator = raw.itemSeparator;
  if (raw.valueFrom !== undefined) b.valueFrom = raw.valueFrom as string;
  if (typeof raw.shellQuote === 'boolean') b.shellQuote = raw.shellQuote;
  if (typeof raw.loadContents === 'boolean') b.loadContents = raw.loadContents;
  return b;
}

function normalizeOutputBinding(raw: Json): OutputBinding {
  if (!isObject(raw)) return {};
  return {
    ...(raw.glob !== undefined ? { glob: raw.glob } : {}),
    ...(typeof raw.loadContents === 'boolean' ? { loadContents: raw.loadContents } : {}),
    ...(typeof raw.loadListing === 'string' ? { loadListing: raw.loadListing as LoadListing } : {}),
    ...(typeof raw.outputEval === 'string' ? { outputEval: raw.outputEval } : {}),
  };
}

function normalizeSecondaryFiles(raw: Json, context: NormalizeContext, field: string): SecondaryFileSpec[] {
  const items = Array.isArray(raw) ? raw : [raw];
  return items.map((item, i) => {
    if (typeof item === 'string') {
      return item.endsWith('?') ? { pattern: item.slice(0, -1), required: false } : { pattern: item };
    }
    if (context.cwlVersion === 'v1.0') fail(context, `${field}.secondaryFiles[${i}]`, 'CWL v1.0 secondaryFiles entries must be strings (pattern objects need v1.1 or later)');
    if (isObject(item) && typeof item.pattern === 'string') {
      return { pattern: item.pattern, ...(item.required !== undefined && item.required !== null ? { required: item.required as boolean | string } : {}) };
    }
    return fail(context, `${field}.secondaryFiles[${i}]`, 'expected a pattern string or {pattern, required}');
  });
}

function normalizeParameter(raw: JsonObject, context: NormalizeContext, field: string, tool?: { stdout?: string; stderr?: string }): Parameter {
  if (typeof raw.id !== 'string') fail(context, field, 'a parameter needs an id');
  const id = shortName(raw.id);
  let typeRaw = raw.type;
  let outputBinding = raw.outputBinding ? normalizeOutputBinding(raw.outputBinding) : undefined;
  if (tool && (typeRaw === 'stdout' || typeRaw === 'stderr')) {
    // `type: stdout` is a File captured from the stream, named randomly unless the tool names it.
    const stream = typeRaw;
    tool[stream] ??= `${stream}-${randomBytes(8).toString('hex')}`;
    typeRaw = 'File';
    outputBinding = { glob: tool[stream] };
  }
  const p: Parameter = { id, type: typeRaw === undefined && raw.outputSource !== undefined ? 'Any' : normalizeType(typeRaw, context, `${field}.type`) };
  if ('default' in raw) p.default = raw.default;
  if (raw.inputBinding) p.inputBinding = normalizeBinding(raw.inputBinding, context, `${field}.inputBinding`);
  if (outputBinding) p.outputBinding = outputBinding;
  if (raw.secondaryFiles !== undefined && raw.secondaryFiles !== null) p.secondaryFiles = normalizeSecondaryFiles(raw.secondaryFiles, context, field);
  if (raw.format !== undefined && raw.format !== null) p.format = expandFormat(raw.format, context);
  if (typeof raw.loadContents === 'boolean') p.loadContents = raw.loadContents;
  if (typeof raw.loadListing === 'string') p.loadListing = raw.loadListing as LoadListing;
  if (typeof raw.streamable === 'boolean') p.streamable = raw.streamable;
  if (raw.outputSource !== undefined) p.outputSource = (Array.isArray(raw.outputSource) ? raw.outputSource : [raw.outputSource]).map(String);
  if (typeof raw.linkMerge === 'string') p.linkMerge = raw.linkMerge;
  if (typeof raw.pickValue === 'string') p.pickValue = raw.pickValue;
  return p;
}

function normalizeRequirements(raw: Json | undefined, context: NormalizeContext, field: string): Requirement[] {
  return listOf(raw, 'class', undefined, context, field).map((r, i) => {
    if (typeof r.class !== 'string') fail(context, `${field}[${i}]`, 'a requirement needs a class');
    return { ...r, class: shortName(r.class) } as Requirement;
  });
}

/** Registers SchemaDefRequirement types so later type references resolve. */
function registerSchemaDefs(requirements: Requirement[], context: NormalizeContext) {
  for (const req of requirements) {
    if (req.class !== 'SchemaDefRequirement' || !Array.isArray(req.types)) continue;
    // Two passes: named types may refer to each other in any order.
    // An `$import`ed file of several types arrives as a nested list.
    const pending = (req.types as Json[]).flat().filter(isObject);
    for (let pass = 0; pass < 2; pass++) {
      for (const t of pending) {
        if (typeof t.name !== 'string') continue;
        try {
          context.types.set(shortName(t.name), normalizeType(t, context, `SchemaDefRequirement.${t.name}`));
        } catch (error) {
          if (pass === 1) throw error;
        }
      }
    }
  }
}

function checkVersionFeatures(requirements: Requirement[], context: NormalizeContext) {
  if (context.cwlVersion === 'v1.2') return;
  for (const req of requirements) {
    if (req.class !== 'ResourceRequirement') continue;
    for (const [key, value] of Object.entries(req)) {
      if (typeof value === 'number' && !Number.isInteger(value)) {
        fail(context, `ResourceRequirement.${key}`, `fractional values need CWL v1.2 (this document is ${context.cwlVersion})`);
      }
    }
  }
}

/** A parameter's name for error paths: its id, or its index when it has none. */
const paramName = (p: JsonObject, index: number) => (typeof p.id === 'string' ? shortName(p.id) : String(index));

export function normalizeProcess(raw: Json, context: NormalizeContext, field = '(document)'): Process {
  if (!isObject(raw)) return fail(context, field === '(document)' ? '' : field, 'a CWL process must be an object');
  const version = typeof raw.cwlVersion === 'string' ? raw.cwlVersion : context.cwlVersion;
  if (!SUPPORTED_VERSIONS.has(version)) fail(context, 'cwlVersion', `unsupported CWL version "${version}" (expected v1.0, v1.1 or v1.2)`);
  const namespaces = { ...context.namespaces, ...(isObject(raw.$namespaces) ? (raw.$namespaces as Record<string, string>) : {}) };
  const nested = field === '(document)' ? {} : { shownAt: `${context.shownAt ?? ''}${field}.`, textAt: `${context.textAt ?? ''}${field}.` };
  const ctx: NormalizeContext = { ...context, ...nested, cwlVersion: version, namespaces, types: new Map(context.types) };

  const requirements = normalizeRequirements(raw.requirements, ctx, 'requirements');
  const hints = normalizeRequirements(raw.hints, ctx, 'hints');
  registerSchemaDefs([...ctx.inherited, ...requirements, ...hints], ctx);
  checkVersionFeatures([...requirements, ...hints], ctx);

  const cls = raw.class;
  const tool: { stdout?: string; stderr?: string } = {
    ...(typeof raw.stdout === 'string' ? { stdout: raw.stdout } : {}),
    ...(typeof raw.stderr === 'string' ? { stderr: raw.stderr } : {}),
  };
  const base: ProcessBase = {
    id: typeof raw.id === 'string' ? shortName(raw.id) : path.basename(context.file),
    cwlVersion: version,
    ...(typeof raw.label === 'string' ? { label: raw.label } : {}),
    ...(raw.doc !== undefined ? { doc: raw.doc } : {}),
    inputs: listOf(raw.inputs, 'id', 'type', ctx, 'inputs').map((p, i) => normalizeParameter(p, ctx, `inputs.${paramName(p, i)}`)),
    outputs: listOf(raw.outputs, 'id', 'type', ctx, 'outputs').map((p, i) =>
      normalizeParameter(p, ctx, `outputs.${paramName(p, i)}`, cls === 'CommandLineTool' ? tool : undefined),
    ),
    requirements,
    hints,
    namespaces,
    schemas: Array.isArray(raw.$schemas) ? raw.$schemas.map(String) : context.schemas,
    sourceFile: context.file,
  };
  if (raw.inputs === undefined) fail(ctx, 'inputs', 'a process needs "inputs" (use [] for none)');
  if (raw.outputs === undefined) fail(ctx, 'outputs', 'a process needs "outputs" (use [] for none)');

  switch (cls) {
    case 'CommandLineTool': {
      const baseCommand = raw.baseCommand === undefined ? [] : Array.isArray(raw.baseCommand) ? raw.baseCommand.map(String) : [String(raw.baseCommand)];
      const args = Array.isArray(raw.arguments)
        ? raw.arguments.map((a, i) => (typeof a === 'string' ? a : normalizeBinding(a, ctx, `arguments[${i}]`)))
        : [];
      const codes = (v: Json | undefined, name: string) => {
        if (v === undefined || v === null) return [];
        if (!Array.isArray(v) || v.some((c) => typeof c !== 'number')) fail(ctx, name, 'must be a list of integers');
        return v as number[];
      };
      const clt: CommandLineTool = {
        ...base,
        class: 'CommandLineTool',
        baseCommand,
        arguments: args,
        ...(typeof raw.stdin === 'string' ? { stdin: raw.stdin } : {}),
        ...tool,
        successCodes: raw.successCodes === undefined ? [0] : codes(raw.successCodes, 'successCodes'),
        temporaryFailCodes: codes(raw.temporaryFailCodes, 'temporaryFailCodes'),
        permanentFailCodes: codes(raw.permanentFailCodes, 'permanentFailCodes'),
      };
      return clt;
    }
    case 'ExpressionTool': {
      if (typeof raw.expression !== 'string') fail(ctx, 'expression', 'an ExpressionTool needs an expression');
      const et: ExpressionTool = { ...base, class: 'ExpressionTool', expression: raw.expression };
      return et;
    }
    case 'Workflow': {
      const stepContext: NormalizeContext = { ...ctx, inherited: [...ctx.inherited, ...requirements, ...hints] };
      const steps = listOf(raw.steps, 'id', undefined, ctx, 'steps').map((s, i) => normalizeStep(s, stepContext, `steps[${i}]`));
      const wf: Workflow = { ...base, class: 'Workflow', steps };
      checkStepOrder(wf, ctx);
      return wf;
    }
    case 'Operation':
      return fail(ctx, 'class', 'Operation processes are abstract and cannot run');
    default:
      return fail(ctx, 'class', `expected CommandLineTool, ExpressionTool or Workflow, got ${JSON.stringify(cls ?? null)}`);
  }
}

/**
 * Refuses steps that wait for each other's outputs in a cycle (no step of it could ever start), naming
 * each step by its CWL id and the input that waits, at the line and column of that input's source.
 */
function checkStepOrder(workflow: Workflow, context: NormalizeContext) {
  const cycle = findStepCycle(workflow);
  if (!cycle) return;
  const chain = [...cycle.map((l) => `${l.step} (in.${l.input}: ${l.source})`), cycle[0]!.step].join(' → ');
  const issues = cycle.map((l) => {
    const field = `steps.${l.step}.in.${l.input}`;
    const issue = issueAt(context.text, `${context.textAt ?? ''}${field}`, `waits for an output of step ${l.from} (${l.source}), in a cycle`);
    return { ...issue, path: `${context.shownAt ?? ''}${field}` };
  });
  const what = cycle.length === 1 ? `step ${cycle[0]!.step} waits for its own output` : 'the steps wait for each other’s outputs in a cycle, so none of them can start';
  throw new CwlLoadError(context.file, `${context.shownAt ?? ''}steps: ${what}: ${chain}`, issues);
}

function normalizeStep(raw: JsonObject, context: NormalizeContext, field: string): WorkflowStep {
  if (typeof raw.id !== 'string') fail(context, field, 'a step needs an id');
  const id = shortName(raw.id);
  const requirements = normalizeRequirements(raw.requirements, context, `${field}.requirements`);
  const hints = normalizeRequirements(raw.hints, context, `${field}.hints`);
  const runContext: NormalizeContext = { ...context, inherited: [...context.inherited, ...requirements, ...hints] };
  let run: Process;
  if (typeof raw.run === 'string') run = context.resolveRun(raw.run, runContext, { field: `${context.shownAt ?? ''}${field}.run`, id, at: `${context.textAt ?? ''}${field}.run` });
  else if (isObject(raw.run)) run = normalizeProcess(raw.run, runContext, `${field}.run`);
  else return fail(context, `${field}.run`, 'a step needs a run (a path or an inline process)');
  const sources = (v: Json | undefined) => (v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map((s) => String(s)));
  const ins: WorkflowStepInput[] = listOf(raw.in, 'id', 'source', context, `${field}.in`).map((input) => ({
    id: shortName(String(input.id)),
    source: sources(input.source),
    ...('default' in input ? { default: input.default } : {}),
    ...(typeof input.valueFrom === 'string' ? { valueFrom: input.valueFrom } : {}),
    ...(typeof input.linkMerge === 'string' ? { linkMerge: input.linkMerge } : {}),
    ...(typeof input.pickValue === 'string' ? { pickValue: input.pickValue } : {}),
    ...(typeof input.loadContents === 'boolean' ? { loadContents: input.loadContents } : {}),
    ...(typeof input.loadListing === 'string' ? { loadListing: input.loadListing as LoadListing } : {}),
  }));
  const outs = (Array.isArray(raw.out) ? raw.out : []).map((o) => shortName(isObject(o) ? String(o.id) : String(o)));
  if (context.cwlVersion !== 'v1.2' && raw.when !== undefined) fail(context, `${field}.when`, `conditional steps need CWL v1.2 (this document is ${context.cwlVersion})`);
  return {
    id,
    in: ins,
    out: outs,
    run,
    requirements,
    hints,
    scatter: sources(raw.scatter).map(shortName),
    ...(typeof raw.scatterMethod === 'string' ? { scatterMethod: raw.scatterMethod } : {}),
    ...(typeof raw.when === 'string' ? { when: raw.when } : {}),
  };
}
