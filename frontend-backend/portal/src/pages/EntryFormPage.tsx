import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, must, type CatalogEntry, type Schemas } from '../api/client';
import { explainForbidden, Field, FieldProblem, placeIssues, problemProps } from '../components/api-issues';
import { ErrorNotice, useLoad } from '../components/common';

const KINDS = ['service', 'data', 'storage', 'compute'] as const;
const VISIBILITIES = ['private', 'public', 'restricted'] as const;
const LOCATIONS = ['directory', 's3', 'postgresql'] as const;
const ACCESS = ['read-only-mount', 'presigned-url', 'database-role'] as const;
type Kind = (typeof KINDS)[number];
type Location = (typeof LOCATIONS)[number];

/** Everything the form holds, as text where the user types it. */
interface Form {
  kind: Kind;
  name: string;
  description: string;
  tags: string;
  licence: string;
  visibility: (typeof VISIBILITIES)[number];
  allowedProjects: string;
  owners: string;
  // service
  image: string;
  cwl: string;
  runsOnOwner: boolean;
  // data and storage
  location: Location;
  path: string;
  bucket: string;
  prefix: string;
  endpoint: string;
  region: string;
  pgMode: 'table' | 'query';
  table: string;
  query: string;
  schema: string;
  access: (typeof ACCESS)[number] | '';
  // compute
  cores: string;
  memoryMiB: string;
  gpus: string;
  quotaCores: string;
  quotaMemoryMiB: string;
  quotaGpus: string;
}

const EMPTY: Form = {
  kind: 'service',
  name: '',
  description: '',
  tags: '',
  licence: '',
  visibility: 'private',
  allowedProjects: '',
  owners: '',
  image: '',
  cwl: '',
  runsOnOwner: false,
  location: 'directory',
  path: '',
  bucket: '',
  prefix: '',
  endpoint: '',
  region: '',
  pgMode: 'table',
  table: '',
  query: '',
  schema: '',
  access: '',
  cores: '',
  memoryMiB: '',
  gpus: '',
  quotaCores: '',
  quotaMemoryMiB: '',
  quotaGpus: '',
};

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const list = (text: string, by: RegExp) =>
  text
    .split(by)
    .map((s) => s.trim())
    .filter(Boolean);
const num = (text: string) => (text.trim() === '' ? undefined : Number(text));
/** Only the fields given: `{ a: undefined }` is left out. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;

/** The form of an existing entry. */
function fromEntry(entry: CatalogEntry): Form {
  const spec = entry.spec as Record<string, unknown>;
  const loc = ((entry.kind === 'data' ? spec.source : spec.target) ?? {}) as Record<string, unknown>;
  const quota = (spec.perPeerQuota ?? {}) as Record<string, unknown>;
  return {
    ...EMPTY,
    kind: entry.kind,
    name: entry.name,
    description: entry.description,
    tags: entry.tags.join(', '),
    licence: entry.licence ?? '',
    visibility: entry.visibility,
    allowedProjects: entry.allowedProjects.join('\n'),
    owners: entry.owners.join(', '),
    image: str(spec.image),
    cwl: str(spec.cwl),
    runsOnOwner: spec.runsOnOwner === true,
    location: (LOCATIONS as readonly string[]).includes(str(loc.type)) ? (loc.type as Location) : 'directory',
    path: str(loc.path),
    bucket: str(loc.bucket),
    prefix: str(loc.prefix),
    endpoint: str(loc.endpoint),
    region: str(loc.region),
    pgMode: loc.query !== undefined ? 'query' : 'table',
    table: str(loc.table),
    query: str(loc.query),
    schema: str(loc.schema),
    access: (ACCESS as readonly string[]).includes(str(spec.access)) ? (spec.access as Form['access']) : '',
    cores: str(spec.cores),
    memoryMiB: str(spec.memoryMiB),
    gpus: str(spec.gpus),
    quotaCores: str(quota.cores),
    quotaMemoryMiB: str(quota.memoryMiB),
    quotaGpus: str(quota.gpus),
  };
}

/** The location of a data source or storage target. */
function locationOf(f: Form, kind: 'data' | 'storage') {
  if (f.location === 'directory') return { type: 'directory' as const, path: f.path.trim() };
  if (f.location === 's3') return defined({ type: 's3' as const, bucket: f.bucket.trim(), prefix: f.prefix.trim(), endpoint: f.endpoint.trim(), region: f.region.trim() });
  if (kind === 'storage') return { type: 'postgresql' as const, schema: f.schema.trim() };
  return f.pgMode === 'table' ? { type: 'postgresql' as const, table: f.table.trim() } : { type: 'postgresql' as const, query: f.query };
}

/** The spec of the form's kind, as the API takes it. */
function specOf(f: Form): Record<string, unknown> {
  switch (f.kind) {
    case 'service':
      return { image: f.image.trim(), cwl: f.cwl, ...(f.runsOnOwner ? { runsOnOwner: true } : {}) };
    case 'data':
      return { source: locationOf(f, 'data'), ...(f.access ? { access: f.access } : {}) };
    case 'storage':
      return { target: locationOf(f, 'storage') };
    case 'compute': {
      const quota = defined({ cores: num(f.quotaCores), memoryMiB: num(f.quotaMemoryMiB), gpus: num(f.quotaGpus) });
      return defined({ cores: num(f.cores), memoryMiB: num(f.memoryMiB), gpus: num(f.gpus), perPeerQuota: Object.keys(quota).length ? quota : undefined });
    }
  }
}

/** The entry's spec as the form would have written it (a service's derived inputs and outputs left out). */
function storedSpec(entry: CatalogEntry): Record<string, unknown> {
  return specOf(fromEntry(entry));
}

/** JSON with sorted keys, to tell whether two values are the same. */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** The fields the form shows for a kind, as the API names them in its issues. */
function fieldKeys(kind: Kind): string[] {
  const common = ['kind', 'name', 'description', 'tags', 'licence', 'visibility', 'allowedProjects', 'owners'];
  const loc = kind === 'data' ? 'spec.source' : 'spec.target';
  const bySpec: Record<Kind, string[]> = {
    service: ['spec.image', 'spec.cwl', 'spec.runsOnOwner'],
    data: [loc, `${loc}.type`, `${loc}.path`, `${loc}.bucket`, `${loc}.prefix`, `${loc}.endpoint`, `${loc}.region`, `${loc}.table`, `${loc}.query`, 'spec.access'],
    storage: [loc, `${loc}.type`, `${loc}.path`, `${loc}.bucket`, `${loc}.prefix`, `${loc}.endpoint`, `${loc}.region`, `${loc}.schema`],
    compute: ['spec.cores', 'spec.memoryMiB', 'spec.gpus', 'spec.perPeerQuota', 'spec.perPeerQuota.cores', 'spec.perPeerQuota.memoryMiB', 'spec.perPeerQuota.gpus'],
  };
  return [...common, ...bySpec[kind]];
}

const idOf = (key: string) => `entry-${key.replace(/[^A-Za-z0-9]+/g, '-')}`;

/** Create (`/admin/entries/new`) or edit (`/admin/entries/:id/edit`) a catalog entry of this cluster. */
export function EntryFormPage() {
  const { id } = useParams();
  const editing = id !== undefined;
  const navigate = useNavigate();
  const entry = useLoad((signal) => (id ? must(api.GET('/api/v1/catalog/entries/{id}', { params: { path: { id } }, signal })) : Promise.resolve(undefined)), [id]);
  const identity = useLoad((signal) => must(api.GET('/api/v1/discovery/identity', { signal })), []);
  const projects = useLoad((signal) => must(api.GET('/api/v1/projects', { signal })), []);
  const [form, setForm] = useState<Form>(EMPTY);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (entry.data) setForm(fromEntry(entry.data));
  }, [entry.data]);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));
  const { byField, rest } = placeIssues(error, fieldKeys(form.kind));
  const problems = (key: string) => byField[key];
  const loc = form.kind === 'data' ? 'spec.source' : 'spec.target';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const tags = list(form.tags.toLowerCase(), /[,\s]+/);
      const owners = list(form.owners, /[,\s]+/);
      const allowedProjects = form.visibility === 'restricted' ? list(form.allowedProjects, /[\s,]+/) : [];
      if (entry.data) {
        const before = entry.data;
        const change: Schemas['CatalogEntryChange'] = {};
        if (form.name !== before.name) change.name = form.name;
        if (form.description !== before.description) change.description = form.description;
        if (canonical(tags) !== canonical(before.tags)) change.tags = tags;
        if ((form.licence.trim() || null) !== before.licence) change.licence = form.licence.trim() || null;
        if (form.visibility !== before.visibility) change.visibility = form.visibility;
        if (form.visibility === 'restricted' && canonical(allowedProjects) !== canonical(before.allowedProjects)) change.allowedProjects = allowedProjects;
        if (owners.length > 0 && canonical(owners) !== canonical(before.owners)) change.owners = owners;
        const spec = specOf(form);
        if (canonical(spec) !== canonical(storedSpec(before))) change.spec = spec;
        if (Object.keys(change).length > 0) await must(api.PATCH('/api/v1/catalog/entries/{id}', { params: { path: { id: before.id } }, body: change }));
        navigate('/admin/entries', { state: { done: Object.keys(change).length ? `Saved "${form.name}".` : `Nothing changed in "${form.name}".` } });
      } else {
        const common = {
          name: form.name,
          ...(form.description ? { description: form.description } : {}),
          ...(tags.length ? { tags } : {}),
          ...(owners.length ? { owners } : {}),
          ...(form.licence.trim() ? { licence: form.licence.trim() } : {}),
          visibility: form.visibility,
          ...(allowedProjects.length ? { allowedProjects } : {}),
        };
        // The spec's shape follows the kind; the API validates it and names each bad field.
        const body = { ...common, kind: form.kind, spec: specOf(form) } as Schemas['NewCatalogEntry'];
        const created = await must(api.POST('/api/v1/catalog/entries', { body }));
        navigate('/admin/entries', { state: { done: `Created "${created.name}".` } });
      }
    } catch (err) {
      setError(explainForbidden(err, "Only the entry's owners and cluster administrators may change it."));
      requestAnimationFrame(() => document.querySelector<HTMLElement>('form [aria-invalid="true"]')?.focus());
    } finally {
      setBusy(false);
    }
  };

  const text = (key: string, label: ReactNode, value: string, onChange: (v: string) => void, extra: { help?: ReactNode; placeholder?: string; required?: boolean; type?: string; step?: string } = {}) => {
    const fid = idOf(key);
    return (
      <Field id={fid} label={label} problems={problems(key)} help={extra.help}>
        <input
          {...problemProps(fid, problems(key), extra.help !== undefined)}
          type={extra.type ?? 'text'}
          step={extra.step}
          min={extra.type === 'number' ? 0 : undefined}
          value={value}
          placeholder={extra.placeholder}
          required={extra.required}
          onChange={(e) => onChange(e.target.value)}
        />
      </Field>
    );
  };

  if (editing && entry.error) {
    return (
      <section>
        <h1>Edit catalog entry</h1>
        <ErrorNotice error={entry.error} />
        <p>
          Back to the <Link to="/admin/entries">entries</Link>.
        </p>
      </section>
    );
  }
  if (editing && !entry.data) return <p role="status">Loading the entry…</p>;
  const here = identity.data?.clusterId;
  const allowed = new Set(list(form.allowedProjects, /[\s,]+/));
  return (
    <section>
      <h1>{editing ? `Edit "${entry.data?.name}"` : 'New catalog entry'}</h1>
      <p>
        <Link to="/admin/entries">Catalog entries</Link>
      </p>
      <form onSubmit={submit} className="entry-form" noValidate>
        <Field id="entry-kind" label="Kind" problems={problems('kind')} help={editing ? 'The kind is fixed at creation.' : undefined}>
          <select {...problemProps('entry-kind', problems('kind'), editing)} value={form.kind} disabled={editing} onChange={(e) => set('kind', e.target.value as Kind)}>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </Field>
        {text('name', 'Name', form.name, (v) => set('name', v), { required: true, help: '1-200 characters, on one line' })}
        <Field id="entry-description" label="Description" problems={problems('description')}>
          <textarea {...problemProps('entry-description', problems('description'))} rows={3} value={form.description} onChange={(e) => set('description', e.target.value)} />
        </Field>
        {text('tags', 'Tags', form.tags, (v) => set('tags', v), { placeholder: 'ocean, genomics, gpu', help: 'lower-case, separated by commas or spaces; at most 32' })}
        {text('licence', 'Licence', form.licence, (v) => set('licence', v), { placeholder: 'CC-BY-4.0', help: editing ? 'empty: no licence' : 'for example an SPDX identifier' })}
        {text('owners', 'Owners', form.owners, (v) => set('owners', v), { placeholder: editing ? '' : 'you', help: 'user names of this cluster who may change the entry, separated by commas; empty: you' })}

        <fieldset>
          <legend>Who may see it</legend>
          <Field id="entry-visibility" label="Visibility" problems={problems('visibility')} help="private: this cluster's users; public: also peered clusters' users; restricted: the projects below">
            <select {...problemProps('entry-visibility', problems('visibility'), true)} value={form.visibility} onChange={(e) => set('visibility', e.target.value as Form['visibility'])}>
              {VISIBILITIES.map((v) => (
                <option key={v}>{v}</option>
              ))}
            </select>
          </Field>
          {form.visibility === 'restricted' && (
            <>
              <Field id="entry-allowedProjects" label="Allowed projects" problems={problems('allowedProjects')} help="federation-wide project ids, clusterId/project, one a line">
                <textarea {...problemProps('entry-allowedProjects', problems('allowedProjects'), true)} rows={3} spellCheck={false} value={form.allowedProjects} onChange={(e) => set('allowedProjects', e.target.value)} />
              </Field>
              {here && (projects.data?.items.length ?? 0) > 0 && (
                <div className="actions" role="group" aria-label="Add one of your projects">
                  {projects.data?.items
                    .map((p) => `${here}/${p.name}`)
                    .filter((p) => !allowed.has(p))
                    .map((p) => (
                      <button key={p} type="button" className="secondary" onClick={() => set('allowedProjects', [...allowed, p].join('\n'))}>
                        Add {p.slice(here.length + 1)}
                      </button>
                    ))}
                </div>
              )}
              <ErrorNotice error={projects.error ?? identity.error} />
            </>
          )}
        </fieldset>

        <fieldset>
          <legend>{form.kind === 'service' ? 'The tool' : form.kind === 'data' ? 'The source (read-only)' : form.kind === 'storage' ? 'The target (writable)' : 'The capacity offered'}</legend>
          {form.kind === 'service' && (
            <>
              {text('spec.image', 'Container image', form.image, (v) => set('image', v), { required: true, placeholder: 'ghcr.io/lab/wc:1.0' })}
              <Field id="entry-spec-cwl" label="CWL tool" problems={problems('spec.cwl')} help="a self-contained CommandLineTool, as YAML or JSON (at most 256 KiB)">
                <textarea {...problemProps('entry-spec-cwl', problems('spec.cwl'), true)} rows={14} spellCheck={false} value={form.cwl} onChange={(e) => set('cwl', e.target.value)} required />
              </Field>
              <div className={problems('spec.runsOnOwner') ? 'field invalid checkbox' : 'field checkbox'}>
                <label>
                  <input type="checkbox" {...problemProps('entry-spec-runsOnOwner', problems('spec.runsOnOwner'))} checked={form.runsOnOwner} onChange={(e) => set('runsOnOwner', e.target.checked)} /> Runs only on this cluster
                  (its licences, data or hardware stay here)
                </label>
                <FieldProblem id="entry-spec-runsOnOwner" problems={problems('spec.runsOnOwner')} />
              </div>
            </>
          )}
          {(form.kind === 'data' || form.kind === 'storage') && (
            <>
              <Field id={idOf(`${loc}.type`)} label="Type" problems={[...(problems(loc) ?? []), ...(problems(`${loc}.type`) ?? [])]}>
                <select {...problemProps(idOf(`${loc}.type`), [...(problems(loc) ?? []), ...(problems(`${loc}.type`) ?? [])])} value={form.location} onChange={(e) => set('location', e.target.value as Location)}>
                  <option value="directory">directory</option>
                  <option value="s3">S3 bucket</option>
                  <option value="postgresql">PostgreSQL {form.kind === 'data' ? 'table or query' : 'schema'}</option>
                </select>
              </Field>
              {form.location === 'directory' && text(`${loc}.path`, 'Path', form.path, (v) => set('path', v), { required: true, placeholder: '/srv/data', help: 'absolute, without ..' })}
              {form.location === 's3' && (
                <>
                  {text(`${loc}.bucket`, 'Bucket', form.bucket, (v) => set('bucket', v), { required: true })}
                  {text(`${loc}.prefix`, 'Prefix', form.prefix, (v) => set('prefix', v), { placeholder: 'sst/' })}
                  {text(`${loc}.endpoint`, 'Endpoint', form.endpoint, (v) => set('endpoint', v), { placeholder: 'http://minio:9000', help: "empty: the node's S3 settings" })}
                  {text(`${loc}.region`, 'Region', form.region, (v) => set('region', v))}
                </>
              )}
              {form.location === 'postgresql' && form.kind === 'storage' && text(`${loc}.schema`, 'Schema', form.schema, (v) => set('schema', v), { required: true, placeholder: 'results' })}
              {form.location === 'postgresql' && form.kind === 'data' && (
                <>
                  <fieldset>
                    <legend>Share</legend>
                    <label>
                      <input type="radio" name="pg-mode" checked={form.pgMode === 'table'} onChange={() => set('pgMode', 'table')} /> a table
                    </label>{' '}
                    <label>
                      <input type="radio" name="pg-mode" checked={form.pgMode === 'query'} onChange={() => set('pgMode', 'query')} /> a query
                    </label>
                  </fieldset>
                  {form.pgMode === 'table' ? (
                    text(`${loc}.table`, 'Table', form.table, (v) => set('table', v), { required: true, placeholder: 'schema.table' })
                  ) : (
                    <Field id={idOf(`${loc}.query`)} label="Query" problems={problems(`${loc}.query`)} help="one SELECT (or WITH … SELECT) statement">
                      <textarea {...problemProps(idOf(`${loc}.query`), problems(`${loc}.query`), true)} rows={4} spellCheck={false} value={form.query} onChange={(e) => set('query', e.target.value)} />
                    </Field>
                  )}
                </>
              )}
              {form.kind === 'data' && (
                <Field id="entry-spec-access" label="Access" problems={problems('spec.access')}>
                  <select {...problemProps('entry-spec-access', problems('spec.access'))} value={form.access} onChange={(e) => set('access', e.target.value as Form['access'])}>
                    <option value="">the one that fits the source</option>
                    {ACCESS.map((a) => (
                      <option key={a}>{a}</option>
                    ))}
                  </select>
                </Field>
              )}
            </>
          )}
          {form.kind === 'compute' && (
            <>
              <p className="help">Empty: taken from this node&apos;s compute provider, which an entry may not exceed.</p>
              {text('spec.cores', 'Cores', form.cores, (v) => set('cores', v), { type: 'number', step: '0.001' })}
              {text('spec.memoryMiB', 'Memory (MiB)', form.memoryMiB, (v) => set('memoryMiB', v), { type: 'number', step: '1' })}
              {text('spec.gpus', 'GPUs', form.gpus, (v) => set('gpus', v), { type: 'number', step: '1' })}
              <fieldset>
                <legend>Quota per peer cluster</legend>
                {problems('spec.perPeerQuota') && <p className="problem">{problems('spec.perPeerQuota')?.join('; ')}</p>}
                {text('spec.perPeerQuota.cores', 'Cores per peer', form.quotaCores, (v) => set('quotaCores', v), { type: 'number', step: '0.001' })}
                {text('spec.perPeerQuota.memoryMiB', 'Memory per peer (MiB)', form.quotaMemoryMiB, (v) => set('quotaMemoryMiB', v), { type: 'number', step: '1' })}
                {text('spec.perPeerQuota.gpus', 'GPUs per peer', form.quotaGpus, (v) => set('quotaGpus', v), { type: 'number', step: '1' })}
              </fieldset>
            </>
          )}
        </fieldset>
        {editing && <p className="help">Changing the spec, the visibility or the allowed projects revokes the open access grants made for this entry (users still allowed ask again).</p>}
        <ErrorNotice error={rest} />
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : editing ? 'Save' : 'Create'}
          </button>
          <Link to="/admin/entries">Cancel</Link>
        </div>
      </form>
    </section>
  );
}
