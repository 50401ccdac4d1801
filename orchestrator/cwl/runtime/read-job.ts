import path from 'node:path';
import type { CwlType, Process, Requirement } from '../model.ts';
import { readYamlFile } from '../load/read-document.ts';
import { JobInputError } from './cwl-errors.ts';
import { expandFormatPrefix } from './prepare-inputs.ts';
import { visitFsObjects } from './types.ts';

/**
 * Reads a job file (YAML or JSON mapping of input values), with the requirements it may add. File
 * formats written with a prefix of the job's own `$namespaces` (`edam:format_1234`) become full IRIs.
 */
export function readJobFile(file: string): { job: Record<string, unknown>; requirements: Requirement[] } {
  const { value } = readYamlFile(file);
  if (value === null) return { job: {}, requirements: [] };
  if (typeof value !== 'object' || Array.isArray(value)) throw new JobInputError(`${file}: a job must be a mapping of input names to values`);
  const job = { ...(value as Record<string, unknown>) };
  const requirements = Array.isArray(job['cwl:requirements']) ? (job['cwl:requirements'] as Requirement[]) : [];
  const namespaces = job.$namespaces !== null && typeof job.$namespaces === 'object' ? (job.$namespaces as Record<string, string>) : {};
  delete job['cwl:tool'];
  delete job['cwl:requirements'];
  delete job.$namespaces;
  visitFsObjects(job, (obj) => {
    if (typeof obj.format === 'string') obj.format = expandFormatPrefix(obj.format, namespaces);
  });
  return { job, requirements };
}

/** A process with a job's `cwl:requirements` added, each replacing one of the same class. */
export function withJobRequirements<P extends Process>(process: P, requirements: Requirement[]): P {
  if (!requirements.length) return process;
  const classes = new Set(requirements.map((r) => r.class));
  return { ...process, requirements: [...process.requirements.filter((r) => !classes.has(r.class)), ...requirements] };
}

const scalar = (type: CwlType): CwlType => (Array.isArray(type) ? (type.find((t) => t !== 'null') ?? 'null') : type);

/** Turns `--name value` options given after the tool into job values, by each input's type. */
export function parseInputOptions(process: Process, args: string[], cwd: string): Record<string, unknown> {
  const job: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new JobInputError(`unexpected argument "${arg}": give tool inputs as --name value`);
    const [, name, inline] = match;
    const param = process.inputs.find((p) => p.id === name);
    if (!param) throw new JobInputError(`--${name}: the tool has no input "${name}" (inputs: ${process.inputs.map((p) => p.id).join(', ') || 'none'})`);
    const type = scalar(param.type);
    if (type === 'boolean' && inline === undefined && (args[i + 1] === undefined || args[i + 1]!.startsWith('--'))) {
      job[name!] = true;
      continue;
    }
    const text = inline ?? args[++i];
    if (text === undefined) throw new JobInputError(`--${name}: missing a value`);
    const typed = (t: CwlType): unknown => {
      if (t === 'int' || t === 'long' || t === 'float' || t === 'double') {
        const n = Number(text);
        if (!Number.isFinite(n)) throw new JobInputError(`--${name}: "${text}" is not a number`);
        return n;
      }
      if (t === 'boolean') return text === 'true';
      if (t === 'File' || t === 'Directory') return { class: t, path: path.resolve(cwd, text) };
      if (typeof t === 'object' && !Array.isArray(t) && t.type === 'array') return [...((job[name!] as unknown[]) ?? []), typed(t.items)];
      return text;
    };
    job[name!] = typed(type);
  }
  return job;
}
