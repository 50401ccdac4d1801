import { useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, must, uploadFile, type CatalogEntry, type Schemas } from '../api/client';
import { useClusterNames } from '../components/cluster-names';
import { ErrorNotice, useLoad, when } from '../components/common';
import { InputsForm, initialValues, toJob, type FormProblems, type FormValues } from '../components/InputsForm';
import { OutputsChoice, type OutputsTarget } from '../components/OutputsChoice';
import { ProjectSelect } from '../components/ProjectSelect';

/** One catalog entry (this cluster's, or a peer's as its owner lets the caller see it); a service's run form. */
export function EntryPage() {
  const { cluster = 'local', id = '' } = useParams();
  const entry = useLoad(
    (signal) => must(api.GET('/api/v1/catalog/entries/{id}', { params: { path: { id }, query: cluster === 'local' ? {} : { cluster } }, signal })),
    [cluster, id],
  );
  const e = entry.data;
  const clusterName = useClusterNames();
  return (
    <section>
      <ErrorNotice error={entry.error} />
      {e && (
        <>
          <h1>{e.name}</h1>
          <dl className="facts">
            <dt>Kind</dt>
            <dd>{e.kind}</dd>
            <dt>Cluster</dt>
            <dd>
              <span title={e.ownerCluster}>{clusterName(e.ownerCluster)}</span>
            </dd>
            <dt>Owners</dt>
            <dd>{e.owners.join(', ') || '—'}</dd>
            <dt>Licence</dt>
            <dd>{e.licence ?? '—'}</dd>
            <dt>Tags</dt>
            <dd>{e.tags.join(', ') || '—'}</dd>
            <dt>Visibility</dt>
            <dd>
              {e.visibility}
              {e.visibility === 'restricted' && ` (projects: ${e.allowedProjects.join(', ') || 'none you belong to'})`}
            </dd>
            <dt>Updated</dt>
            <dd>{when(e.updatedAt)}</dd>
          </dl>
          <p className="description">{e.description || 'No description.'}</p>
          {e.kind === 'service' && <ServiceRunForm entry={e} cluster={cluster} />}
          {e.kind !== 'service' && (
            <details>
              <summary>Specification</summary>
              <pre>{JSON.stringify(e.spec, null, 2)}</pre>
            </details>
          )}
        </>
      )}
    </section>
  );
}

function ServiceRunForm({ entry, cluster }: { entry: CatalogEntry; cluster: string }) {
  const spec = entry.spec as Schemas['ServiceSpec'];
  const [values, setValues] = useState<FormValues>(() => initialValues(spec.inputs));
  const [problems, setProblems] = useState<FormProblems>({});
  const [project, setProject] = useState('');
  const [outputs, setOutputs] = useState<OutputsTarget>();
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const navigate = useNavigate();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      setStatus('Checking the inputs…');
      const built = await toJob(spec.inputs, values, async (file) => {
        setStatus(`Uploading ${file.name}…`);
        return (await uploadFile(file, project)).location;
      });
      if ('problems' in built) {
        setProblems(built.problems);
        setStatus('');
        document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return;
      }
      setProblems({});
      setStatus('Submitting…');
      const run = (await must(api.POST('/api/v1/runs', { body: { service: cluster === 'local' ? entry.id : { id: entry.id, cluster }, job: built.job, project, ...(outputs ? { outputs } : {}) } }))) as Schemas['Run'];
      navigate(`/runs/${run.id}`);
    } catch (err) {
      setError(err);
      setStatus('');
    }
  };
  return (
    <form className="run-form" onSubmit={submit} noValidate>
      <h2>Run this service</h2>
      <p className="meta">
        Image <code>{spec.image}</code>
        {spec.runsOnOwner && ' · runs on the cluster that offers it'}
      </p>
      <ProjectSelect value={project} onChange={setProject} />
      <InputsForm
        params={spec.inputs}
        values={values}
        onChange={(v) => {
          setValues(v);
          setProblems({});
        }}
        problems={problems}
      />
      <OutputsChoice value={outputs} onChange={setOutputs} />
      <ErrorNotice error={error} />
      <p role="status">{status}</p>
      <button type="submit" disabled={!project || status !== ''}>
        Run
      </button>
    </form>
  );
}
