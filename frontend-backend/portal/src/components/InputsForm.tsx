import { parse as parseYaml } from 'yaml';
import { api, must, type ToolParameter } from '../api/client';
import { useLoad } from './common';
import { describeType, parseCwlType, shortName, unwrapOptional, type CwlType } from './cwl-types';

/** What a field of the form holds: text for scalars, a chosen file or a location for File/Directory, lists, records. */
export type FormValue = string | boolean | { file?: File; location?: string } | FormValue[] | { [field: string]: FormValue } | undefined;
export type FormValues = Record<string, FormValue>;
/** Problems found before submitting, by field path (`reads`, `samples.2`, `options.mode`). */
export type FormProblems = Record<string, string>;

const isFileKind = (t: CwlType) => t.kind === 'File' || t.kind === 'Directory';

function initialValue(type: CwlType, fallback: unknown): FormValue {
  const { type: inner } = unwrapOptional(type);
  if (inner.kind === 'boolean') return fallback === true;
  if (isFileKind(inner)) {
    const location = (fallback as { location?: unknown } | undefined)?.location;
    return typeof location === 'string' ? { location } : {};
  }
  if (inner.kind === 'array') return Array.isArray(fallback) ? fallback.map((v) => initialValue(inner.items, v)) : [];
  if (inner.kind === 'record') {
    const given = (fallback ?? {}) as Record<string, unknown>;
    return Object.fromEntries(inner.fields.map((f) => [f.name, initialValue(f.type, given[f.name])]));
  }
  if (fallback === undefined || fallback === null) return '';
  return typeof fallback === 'string' ? fallback : JSON.stringify(fallback);
}

/** The form's starting values: each input's default, else empty. */
export function initialValues(params: ToolParameter[]): FormValues {
  return Object.fromEntries(params.map((p) => [shortName(p.id), initialValue(parseCwlType(p.type), p.default)]));
}

type Upload = (file: File) => Promise<string>;

/**
 * The job object the form describes, files uploaded through `upload` (answering their location). Every
 * problem is collected first, so that all of them are shown at once next to their fields; nothing is
 * uploaded while any remains.
 */
export async function toJob(params: ToolParameter[], values: FormValues, upload: Upload): Promise<{ job: Record<string, unknown> } | { problems: FormProblems }> {
  const problems: FormProblems = {};
  const uploads: { file: File; assign(location: string): void }[] = [];
  const convert = (type: CwlType, value: FormValue, path: string, required: boolean): unknown => {
    const { type: inner, optional } = unwrapOptional(type);
    const empty =
      value === undefined ||
      value === '' ||
      (isFileKind(inner) && !(value as { file?: File }).file && !(value as { location?: string }).location) ||
      (inner.kind === 'array' && Array.isArray(value) && value.length === 0 && required && !optional);
    if (empty) {
      if (required && !optional) problems[path] = 'required';
      return undefined;
    }
    switch (inner.kind) {
      case 'boolean':
        return value === true;
      case 'int':
      case 'long': {
        const text = String(value).trim();
        if (!/^-?\d+$/.test(text)) problems[path] = 'must be a whole number';
        return Number(text);
      }
      case 'float':
      case 'double': {
        const n = Number(String(value).trim());
        if (!Number.isFinite(n)) problems[path] = 'must be a number';
        return n;
      }
      case 'string':
      case 'enum':
        return String(value);
      case 'File':
      case 'Directory': {
        const chosen = value as { file?: File; location?: string };
        const object: Record<string, unknown> = { class: inner.kind };
        if (chosen.file) uploads.push({ file: chosen.file, assign: (location) => (object.location = location) });
        else if (!/^archipel:(files|catalog)\//.test(chosen.location!.trim())) problems[path] = 'must be an upload or a location such as archipel:catalog/<entry id>/<path>';
        else object.location = chosen.location!.trim();
        return object;
      }
      case 'array':
        return (value as FormValue[]).map((item, i) => convert(inner.items, item, `${path}.${i}`, true));
      case 'record':
        return Object.fromEntries(inner.fields.map((f) => [f.name, convert(f.type, (value as Record<string, FormValue>)[f.name], `${path}.${f.name}`, true)]).filter(([, v]) => v !== undefined));
      default:
        try {
          return parseYaml(String(value)) as unknown;
        } catch (error) {
          problems[path] = `not YAML or JSON: ${(error as Error).message.split('\n')[0]}`;
          return undefined;
        }
    }
  };
  const job: Record<string, unknown> = {};
  for (const p of params) {
    const name = shortName(p.id);
    const value = convert(parseCwlType(p.type), values[name], name, p.required && p.default === undefined);
    if (value !== undefined) job[name] = value;
  }
  if (Object.keys(problems).length) return { problems };
  for (const u of uploads) u.assign(await upload(u.file));
  return { job };
}

interface FieldProps {
  type: CwlType;
  value: FormValue;
  onChange(value: FormValue): void;
  path: string;
  label: string;
  help?: string | undefined;
  problems: FormProblems;
}

// One list of the data entries the user may see, offered by every location field.
const DATA_ENTRIES = 'data-entry-locations';

function DataEntryLocations() {
  const here = useLoad((signal) => must(api.GET('/api/v1/discovery/identity', { signal })), []);
  const entries = useLoad((signal) => must(api.GET('/api/v1/catalog/search', { params: { query: { kind: 'data', scope: 'federation', limit: 200 } }, signal })), []);
  return (
    <datalist id={DATA_ENTRIES}>
      {(entries.data?.items ?? []).map((e) => {
        const origin = e.origin ?? e.ownerCluster;
        const location = origin === here.data?.clusterId ? `archipel:catalog/${e.id}` : `archipel:catalog/${origin}/${e.id}`;
        return (
          <option key={location} value={location}>
            {e.name}
          </option>
        );
      })}
    </datalist>
  );
}

const fieldId = (path: string) => `input-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

function Field({ type, value, onChange, path, label, help, problems }: FieldProps) {
  const { type: inner, optional } = unwrapOptional(type);
  const id = fieldId(path);
  const problem = problems[path];
  const describedBy = [help ? `${id}-help` : '', problem ? `${id}-problem` : ''].filter(Boolean).join(' ') || undefined;
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': problem ? true : undefined };
  let control;
  if (inner.kind === 'boolean') {
    control = <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (inner.kind === 'enum') {
    control = (
      <select {...common} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)}>
        <option value="">{optional ? '(none)' : 'choose…'}</option>
        {inner.symbols.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    );
  } else if (isFileKind(inner)) {
    const chosen = (value ?? {}) as { file?: File; location?: string };
    control = (
      <div className="file-choice">
        {inner.kind === 'File' && <input type="file" {...common} onChange={(e) => onChange({ ...(e.target.files?.[0] ? { file: e.target.files[0] } : {}) })} />}
        <input
          type="text"
          id={inner.kind === 'File' ? `${id}-location` : id}
          aria-label={`${label}: ${inner.kind === 'File' ? 'or ' : ''}a location (archipel:catalog/<entry id>/<path>)`}
          placeholder="archipel:catalog/<entry id>/<path>"
          list={DATA_ENTRIES}
          value={chosen.file ? '' : (chosen.location ?? '')}
          disabled={chosen.file !== undefined}
          onChange={(e) => onChange({ location: e.target.value })}
        />
      </div>
    );
  } else if (inner.kind === 'array') {
    const items = Array.isArray(value) ? value : [];
    return (
      <fieldset className="field">
        <legend>
          {label} <span className="type">{describeType(inner)}</span>
        </legend>
        {help && <p className="help" id={`${id}-help`}>{help}</p>}
        {items.map((item, i) => (
          <div className="array-item" key={i}>
            <Field type={inner.items} value={item} path={`${path}.${i}`} label={`${label} ${i + 1}`} problems={problems} onChange={(v) => onChange(items.map((old, j) => (j === i ? v : old)))} />
            <button type="button" onClick={() => onChange(items.filter((_, j) => j !== i))} aria-label={`remove ${label} ${i + 1}`}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => onChange([...items, initialValue(inner.items, undefined)])}>
          Add {label}
        </button>
        {problem && <p className="problem" id={`${id}-problem`}>{problem}</p>}
      </fieldset>
    );
  } else if (inner.kind === 'record') {
    const fields = (value ?? {}) as Record<string, FormValue>;
    return (
      <fieldset className="field">
        <legend>{label}</legend>
        {help && <p className="help" id={`${id}-help`}>{help}</p>}
        {inner.fields.map((f) => (
          <Field key={f.name} type={f.type} value={fields[f.name]} path={`${path}.${f.name}`} label={f.name} help={f.doc} problems={problems} onChange={(v) => onChange({ ...fields, [f.name]: v })} />
        ))}
      </fieldset>
    );
  } else {
    const numeric = ['int', 'long', 'float', 'double'].includes(inner.kind);
    control = (
      <input
        type="text"
        inputMode={numeric ? (inner.kind === 'int' || inner.kind === 'long' ? 'numeric' : 'decimal') : undefined}
        {...common}
        value={String(value ?? '')}
        placeholder={inner.kind === 'any' || inner.kind === 'union' ? 'YAML or JSON' : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={`field${problem ? ' invalid' : ''}`}>
      <label htmlFor={id}>
        {label} <span className="type">{describeType(inner)}{optional ? ', optional' : ''}</span>
      </label>
      {control}
      {help && <p className="help" id={`${id}-help`}>{help}</p>}
      {problem && <p className="problem" id={`${id}-problem`}>{problem}</p>}
    </div>
  );
}

/** A form generated from a tool's CWL inputs: a field per input, of its type, with the input's doc as help. */
export function InputsForm({ params, values, onChange, problems }: { params: ToolParameter[]; values: FormValues; onChange(values: FormValues): void; problems: FormProblems }) {
  if (params.length === 0) return <p>This tool takes no inputs.</p>;
  const wantsLocations = JSON.stringify(params.map((p) => p.type)).match(/"(File|Directory)/);
  return (
    <div className="inputs-form">
      {wantsLocations && <DataEntryLocations />}
      {params.map((p) => {
        const name = shortName(p.id);
        const type = parseCwlType(p.type);
        const required = p.required && p.default === undefined;
        const optionalType = required ? type : ({ kind: 'union', options: [{ kind: 'null' }, type] } as CwlType);
        return <Field key={name} type={optionalType} value={values[name]} path={name} label={p.label ?? name} help={p.doc} problems={problems} onChange={(v) => onChange({ ...values, [name]: v })} />;
      })}
    </div>
  );
}
