import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, download, must, type Run, type RunStep } from '../api/client';
import { followRunEvents } from '../api/run-events';
import { useClusterNames } from '../components/cluster-names';
import { duration, ErrorNotice, Phase, useLoad, when } from '../components/common';
import { RunGraph } from '../components/RunGraph';
import { ScrollingTable } from '../components/table-pages';

const ENDED = new Set(['Succeeded', 'Failed', 'Error']);
const MAX_LOG_CHARS = 512 * 1024;

interface OutputFile {
  name: string;
  path: string;
  location: string;
  size?: number;
}

/** Every File of a CWL output object, with where it sits in it (`out`, `results[2]`, `dir/listing/a.txt`). */
function filesOf(value: unknown, path: string, out: OutputFile[] = []): OutputFile[] {
  if (Array.isArray(value)) value.forEach((v, i) => filesOf(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') {
    const v = value as { class?: string; location?: string; basename?: string; size?: number; listing?: unknown[]; secondaryFiles?: unknown[] };
    if (v.class === 'File' && v.location) out.push({ name: v.basename ?? path, path, location: v.location, ...(v.size !== undefined ? { size: v.size } : {}) });
    if (v.class === 'Directory') (v.listing ?? []).forEach((item, i) => filesOf(item, `${path}/${(item as { basename?: string }).basename ?? i}`, out));
    if (v.class === 'File') (v.secondaryFiles ?? []).forEach((item, i) => filesOf(item, `${path}+${i}`, out));
    if (!v.class) for (const [k, inner] of Object.entries(value)) filesOf(inner, path ? `${path}.${k}` : k, out);
  }
  return out;
}

/** One run: its steps as a live DAG, the selected step's log as it grows, its outputs to download. */
export function RunPage() {
  const { id = '' } = useParams();
  const [run, setRun] = useState<Run>();
  const [error, setError] = useState<unknown>();
  const [logs, setLogs] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<string>();
  const [ended, setEnded] = useState(false);
  const clusterName = useClusterNames();
  const navigate = useNavigate();

  useEffect(() => {
    const controller = new AbortController();
    setRun(undefined);
    setLogs({});
    setEnded(false);
    const load = () => must(api.GET('/api/v1/runs/{id}', { params: { path: { id } }, signal: controller.signal }));
    load()
      .then((first) => {
        setRun(first);
        return followRunEvents(
          id,
          (event) => {
            const data = event.data;
            if (event.type === 'step') {
              setRun((r) => r && { ...r, steps: r.steps.map((s) => (s.step === data.step ? ({ ...s, ...data } as RunStep) : s)) });
            } else if (event.type === 'run') {
              setRun((r) => r && { ...r, ...(data as Partial<Run>) });
            } else if (event.type === 'log') {
              const step = String(data.step);
              const prefix = data.item !== undefined ? `[#${String(data.item)}] ` : '';
              const text = String(data.text ?? '');
              const lines = prefix ? text.replace(/^(?=.)/gm, prefix) : text;
              setLogs((old) => ({ ...old, [step]: ((old[step] ?? '') + lines).slice(-MAX_LOG_CHARS) }));
            }
          },
          controller.signal,
        );
      })
      .then(() => (controller.signal.aborted ? undefined : load().then(setRun)))
      .then(() => controller.signal.aborted || setEnded(true))
      .catch((err: unknown) => controller.signal.aborted || setError(err));
    return () => controller.abort();
  }, [id]);

  const act = async (action: 'stop' | 'retry' | 'delete') => {
    setError(undefined);
    try {
      if (action === 'delete') {
        await must(api.DELETE('/api/v1/runs/{id}', { params: { path: { id } } }));
        navigate('/runs');
      } else if (action === 'stop') await must(api.POST('/api/v1/runs/{id}/stop', { params: { path: { id } } }));
      else {
        await must(api.POST('/api/v1/runs/{id}/retry', { params: { path: { id } } }));
        navigate(0);
      }
    } catch (err) {
      setError(err);
    }
  };

  if (!run) return <section>{error ? <ErrorNotice error={error} /> : <p role="status">Loading the run…</p>}</section>;
  const step = run.steps.find((s) => s.step === selected);
  return (
    <section>
      <h1>
        {run.name} <Phase phase={run.phase} />
      </h1>
      <p className="meta">
        project {run.project} · by {run.owner} · submitted {when(run.createdAt)} · {duration(run.startedAt, run.finishedAt)}
        {run.attempt > 1 && ` · attempt ${run.attempt}`}
      </p>
      {run.message && <p className="notice">{run.message}</p>}
      <div className="actions">
        {!ENDED.has(run.phase) && (
          <button type="button" onClick={() => void act('stop')}>
            Stop
          </button>
        )}
        {(run.phase === 'Failed' || run.phase === 'Error') && (
          <button type="button" onClick={() => void act('retry')}>
            Retry
          </button>
        )}
        {ENDED.has(run.phase) && (
          <button type="button" onClick={() => void act('delete')}>
            Delete
          </button>
        )}
      </div>
      <ErrorNotice error={error} />
      <RunGraph steps={run.steps} clusterName={clusterName} selected={selected} onSelect={setSelected} />
      <h2>Steps</h2>
      <ScrollingTable label="Steps">
        <table>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Phase</th>
              <th scope="col">Cluster</th>
              <th scope="col">Items</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {run.steps.map((s) => (
              <tr key={s.step} className={s.step === selected ? 'selected' : undefined}>
                <td>
                  <button type="button" className="link" onClick={() => setSelected(s.step)}>
                    {s.step}
                  </button>
                </td>
                <td>
                  <Phase phase={s.phase} />
                  {s.message && <span className="message"> {s.message}</span>}
                </td>
                <td title={s.cluster}>{clusterName(s.cluster)}</td>
                <td>
                  {s.items.succeeded}/{s.items.total}
                  {s.items.reused > 0 && ` (${s.items.reused} reused)`}
                </td>
                <td>{duration(s.startedAt, s.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollingTable>
      {step && (
        <section aria-labelledby="log-title">
          <h2 id="log-title">Log of {step.step}</h2>
          <pre className="log" tabIndex={0} aria-live="polite">
            {logs[step.step] || (step.phase === 'Pending' ? 'The step has not started.' : 'No output yet.')}
          </pre>
        </section>
      )}
      {ended && run.phase === 'Succeeded' && <Outputs runId={run.id} />}
    </section>
  );
}

function Outputs({ runId }: { runId: string }) {
  const outputs = useLoad((signal) => must(api.GET('/api/v1/runs/{id}/outputs', { params: { path: { id: runId } }, signal })), [runId]);
  const [error, setError] = useState<unknown>();
  const files = outputs.data ? filesOf(outputs.data, '') : [];
  return (
    <section aria-labelledby="outputs-title">
      <h2 id="outputs-title">Outputs</h2>
      <ErrorNotice error={outputs.error ?? error} />
      {outputs.data && files.length === 0 && <p>No output files.</p>}
      <ul className="outputs">
        {files.map((f) => (
          <li key={f.path}>
            <button type="button" onClick={() => download(f.location, f.name).catch(setError)}>
              Download {f.name}
            </button>{' '}
            <span className="meta">
              {f.path}
              {f.size !== undefined && ` · ${f.size} bytes`}
            </span>
          </li>
        ))}
      </ul>
      {outputs.data && (
        <details>
          <summary>Output object</summary>
          <pre>{JSON.stringify(outputs.data, null, 2)}</pre>
        </details>
      )}
    </section>
  );
}
