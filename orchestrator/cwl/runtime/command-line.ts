import type { Binding, CommandLineTool, CwlType, Parameter } from '../model.ts';
import type { EvalContext, Evaluator } from './evaluation.ts';
import { isFsObject } from './file-objects.ts';
import { matchingType } from './types.ts';

/** One command-line fragment before sorting: where it goes, the value, and how to render it. */
interface BoundArg {
  key: (number | string)[];
  binding: Binding;
  datum: unknown;
  /** Where the binding is in the document (`inputs.reads`, `arguments[0]`), for expression errors. */
  field: string;
}

/** CWL sort keys compare element by element, numbers before strings, a shorter prefix first. */
function compareKeys(a: (number | string)[], b: (number | string)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

interface Schema {
  type: CwlType;
  inputBinding?: Binding;
}

/**
 * Collects the bindings of one value and everything inside it (record fields, array items), each keyed
 * by its position path, following the CWL specification's binding algorithm.
 */
function bindInput(schema: Schema, datum: unknown, lead: (number | string)[], tail: (number | string)[], ev: BindEval, where: string): BoundArg[] {
  const bindings: BoundArg[] = [];
  let own: BoundArg | undefined;
  if (schema.inputBinding) {
    let position: unknown = schema.inputBinding.position ?? 0;
    if (typeof position === 'string') position = ev.evaluate(position, datum, `${where}.inputBinding.position`) ?? 0;
    own = { key: [...lead, ...(Array.isArray(position) ? position : [position as number]), ...tail], binding: schema.inputBinding, datum, field: where };
  }
  const hasValueFrom = own?.binding.valueFrom !== undefined;
  let type = schema.type;
  if (Array.isArray(type)) {
    const branch = matchingType(datum, type);
    if (branch === undefined) return own ? [own] : [];
    type = branch;
  }
  if (type === 'Any' && datum !== null && typeof datum === 'object' && !isFsObject(datum)) {
    type = Array.isArray(datum) ? { type: 'array', items: 'Any' } : 'Any';
  }
  if (typeof type === 'object' && !Array.isArray(type)) {
    if (type.type === 'record' && !hasValueFrom && datum && typeof datum === 'object') {
      const record = datum as Record<string, unknown>;
      for (const field of type.fields) {
        const value = record[field.name];
        if (value !== undefined && value !== null) {
          bindings.push(...bindInput({ type: field.type, inputBinding: field.inputBinding }, value, lead, [field.name], ev, `${where}.${field.name}`));
        }
      }
      if (type.inputBinding && !own) own = { key: [...lead, type.inputBinding.position as number ?? 0, ...tail], binding: type.inputBinding, datum, field: `${where}.type` };
    } else if (type.type === 'array' && !hasValueFrom && Array.isArray(datum)) {
      // An array bound without itemSeparator spreads its items, each with the array's own item binding.
      const itemBinding = type.inputBinding ?? (own && own.binding.itemSeparator === undefined ? {} : undefined);
      datum.forEach((item, n) => {
        const itemKey = itemBinding ? { ...itemBinding, position: itemBinding.position ?? 0 } : undefined;
        bindings.push(...bindInput({ type: type.items, ...(itemKey ? { inputBinding: itemKey } : {}) }, item, [n], tail, ev, `${where}.type.items`));
      });
    } else if ((type.type === 'enum' || type.type === 'record' || type.type === 'array') && type.inputBinding && !own) {
      own = { key: [...lead, (type.inputBinding.position as number) ?? 0, ...tail], binding: type.inputBinding, datum, field: `${where}.type` };
    }
  }
  if (own) {
    for (const b of bindings) b.key = [...own.key, ...b.key];
    bindings.push(own);
  }
  return bindings;
}

interface BindEval {
  evaluate(text: unknown, self: unknown, field: string): unknown;
}

/** How a value appears on a command line: File/Directory by path, numbers and booleans as text. */
export function toArgString(value: unknown): string {
  if (isFsObject(value)) return String(value.path);
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'number') return numberText(value);
  return String(value);
}

/**
 * A number in plain decimal notation, never in exponent form (`0.0000001`, `1000000000000000000000`),
 * as the CWL conformance test very_big_and_very_floats_nojs requires: the shortest digits that read
 * back as the same double, placed around the decimal point. (The reference runner writes Python's
 * `str`, `1e-07`, and fails that test.)
 */
export function numberText(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = String(value);
  if (!text.includes('e')) return text;
  const [mantissa = '', exp = '0'] = value.toExponential().split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = 1 + Number(exp);
  const body = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + body;
}

function render(arg: BoundArg, ev: BindEval): string[] {
  const { binding } = arg;
  let value = arg.datum;
  if (binding.valueFrom !== undefined) value = ev.evaluate(binding.valueFrom, value, `${arg.field}.valueFrom`);
  const prefix = binding.prefix;
  const separate = binding.separate ?? true;
  let items: unknown[];
  if (Array.isArray(value)) {
    if (binding.itemSeparator !== undefined && value.length) items = [value.map(toArgString).join(binding.itemSeparator)];
    else if (binding.valueFrom !== undefined) return [...(prefix ? [prefix] : []), ...value.map(toArgString)];
    else return prefix && value.length ? [prefix] : [];
  } else if (isFsObject(value)) items = [value];
  else if (value !== null && typeof value === 'object') return prefix ? [prefix] : [];
  else if (value === true) return prefix ? [prefix] : [];
  else if (value === false || value === null || value === undefined) return [];
  else items = [value];
  const out: string[] = [];
  for (const item of items) {
    if (prefix === undefined) out.push(toArgString(item));
    else if (separate) out.push(prefix, toArgString(item));
    else out.push(prefix + toArgString(item));
  }
  return out;
}

export interface CommandPart {
  value: string;
  /** False for `shellQuote: false` bindings under ShellCommandRequirement. */
  quote: boolean;
}

/** The command line of a tool for its inputs: baseCommand, then arguments and input bindings in order. */
export function buildCommandLine(tool: CommandLineTool, evaluator: Evaluator, context: EvalContext): CommandPart[] {
  const ev: BindEval = { evaluate: (text, self, field) => evaluator.evaluate(text, { ...context, self }, { field }) };
  const bound: BoundArg[] = [];
  tool.arguments.forEach((arg, i) => {
    // A plain string argument is its own valueFrom: its field is the argument itself.
    if (typeof arg === 'string') bound.push({ key: [0, i], binding: { valueFrom: arg }, datum: null, field: `arguments[${i}]` });
    else {
      let position: unknown = arg.position ?? 0;
      if (typeof position === 'string') position = ev.evaluate(position, null, `arguments[${i}].position`) ?? 0;
      bound.push({ key: [position as number, i], binding: arg, datum: null, field: `arguments[${i}]` });
    }
  });
  for (const param of tool.inputs as Parameter[]) {
    const value = context.inputs[param.id];
    // A missing value binds nothing, not even its valueFrom (as the reference runner does).
    if (value === undefined || value === null) continue;
    bound.push(...bindInput({ type: param.type, ...(param.inputBinding ? { inputBinding: param.inputBinding } : {}) }, value, [], [param.id], ev, `inputs.${param.id}`));
  }
  bound.sort((a, b) => compareKeys(a.key, b.key));
  const parts: CommandPart[] = tool.baseCommand.map((value) => ({ value, quote: true }));
  for (const arg of bound) {
    const quote = arg.binding.shellQuote ?? true;
    for (const value of render(arg, ev)) parts.push({ value, quote });
  }
  return parts;
}

/** POSIX shell quoting, leaving plainly safe words as they are (like Python's shlex.quote). */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}
