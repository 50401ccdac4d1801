import { useMemo, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { parse as parseYaml } from 'yaml';
import { api, must, uploadFile, type Schemas } from '../api/client';
import { ClusterId, ErrorNotice } from '../components/common';
import { documentInputs } from '../components/document-inputs';
import { InputsForm, initialValues, toJob, type FormProblems, type FormValues } from '../components/InputsForm';
import { OutputsChoice, type OutputsTarget } from '../components/OutputsChoice';
import { ProjectSelect } from '../components/ProjectSelect';
import { ScrollingTable } from '../components/table-pages';

/** Submit a CWL document (pasted or chosen) with its job, after seeing where each step would run. */
export function SubmitPage() {
  const [cwl, setCwl] = useState('');
  const [mode, setMode] = useState<'form' | 'yaml'>('form');
  const [jobText, setJobText] = useState('{}');
  const [values, setValues] = useState<FormValues>({});
  const [problems, setProblems] = useState<FormProblems>({});
  const [project, setProject] = useState('');
  const [outputs, setOutputs] = useState<OutputsTarget>();
  const [name, setName] = useState('');
  const [plan, setPlan] = useState<Schemas['RunPlan']>();
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const navigate = useNavigate();
  const parsed = useMemo(() => (cwl.trim() ? documentInputs(cwl) : undefined), [cwl]);
  const inputs = parsed && 'inputs' in parsed ? parsed.inputs : [];
  const setDocument = (text: string) => {
    setCwl(text);
    setPlan(undefined);
    const read = text.trim() ? documentInputs(text) : undefined;
    setValues(read && 'inputs' in read ? initialValues(read.inputs) : {});
  };

  const job = async (): Promise<Record<string, unknown> | undefined> => {
    if (mode === 'yaml') {
      try {
        const value = parseYaml(jobText) as unknown;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('the job must be a mapping of input names to values');
        setProblems({});
        return value as Record<string, unknown>;
      } catch (err) {
        setProblems({ job: (err as Error).message.split('\n')[0]! });
        return undefined;
      }
    }
    const built = await toJob(inputs, values, async (file) => {
      setStatus(`Uploading ${file.name}…`);
      return (await uploadFile(file, project)).location;
    });
    if ('problems' in built) {
      setProblems(built.problems);
      return undefined;
    }
    setProblems({});
    return built.job;
  };

  const send = async (dryRun: boolean) => {
    setError(undefined);
    try {
      setStatus(dryRun ? 'Planning…' : 'Submitting…');
      const body = await job();
      if (!body) {
        setStatus('');
        return;
      }
      const request = { cwl, job: body, project, ...(name.trim() ? { name: name.trim() } : {}), ...(outputs ? { outputs } : {}) };
      if (dryRun) {
        setPlan(await must(api.POST('/api/v1/runs', { params: { query: { dryRun: 'true' } }, body: request })) as Schemas['RunPlan']);
        setStatus('');
      } else {
        const run = (await must(api.POST('/api/v1/runs', { body: request }))) as Schemas['Run'];
        navigate(`/runs/${run.id}`);
      }
    } catch (err) {
      setError(err);
      setStatus('');
    }
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void send(false);
  };

  return (
    <section>
      <h1>Submit a workflow</h1>
      <form onSubmit={onSubmit} noValidate className="submit-form">
        <div className="field">
          <label htmlFor="cwl">CWL document (YAML or JSON, self-contained: pack it with <code>cwltool --pack</code>)</label>
          <textarea id="cwl" rows={14} spellCheck={false} value={cwl} onChange={(e) => setDocument(e.target.value)} aria-describedby={parsed && 'problem' in parsed ? 'cwl-problem' : undefined} />
          <label htmlFor="cwl-file">or choose a file</label>
          <input id="cwl-file" type="file" accept=".cwl,.yml,.yaml,.json" onChange={(e) => void e.target.files?.[0]?.text().then(setDocument)} />
          {parsed && 'problem' in parsed && (
            <p className="problem" id="cwl-problem">
              {parsed.problem}
            </p>
          )}
        </div>
        <ProjectSelect value={project} onChange={setProject} />
        <div className="field">
          <label htmlFor="run-name">Run name (optional)</label>
          <input id="run-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <OutputsChoice value={outputs} onChange={setOutputs} />
        <fieldset>
          <legend>Job</legend>
          <label>
            <input type="radio" name="job-mode" checked={mode === 'form'} onChange={() => setMode('form')} /> form
          </label>
          <label>
            <input type="radio" name="job-mode" checked={mode === 'yaml'} onChange={() => setMode('yaml')} /> YAML
          </label>
          {mode === 'form' ? (
            cwl.trim() ? (
              <InputsForm
                params={inputs}
                values={values}
                onChange={(v) => {
                  setValues(v);
                  setProblems({});
                }}
                problems={problems}
              />
            ) : (
              <p>Paste a document to fill in its inputs.</p>
            )
          ) : (
            <div className="field">
              <label htmlFor="job-yaml">Job (YAML or JSON)</label>
              <textarea id="job-yaml" rows={8} spellCheck={false} value={jobText} onChange={(e) => setJobText(e.target.value)} aria-invalid={problems.job ? true : undefined} aria-describedby={problems.job ? 'job-problem' : undefined} />
              {problems.job && (
                <p className="problem" id="job-problem">
                  {problems.job}
                </p>
              )}
            </div>
          )}
        </fieldset>
        <ErrorNotice error={error} />
        <p role="status">{status}</p>
        <div className="actions">
          <button type="button" disabled={!cwl.trim() || !project || status !== ''} onClick={() => void send(true)}>
            Show the plan
          </button>
          <button type="submit" disabled={!cwl.trim() || !project || status !== ''}>
            Submit
          </button>
        </div>
      </form>
      {plan && <PlanTable plan={plan} />}
    </section>
  );
}

function PlanTable({ plan }: { plan: Schemas['RunPlan'] }) {
  const names = new Map(plan.clusters.map((c) => [c.id, c.local ? `${c.name ?? ''} (this cluster)` : c.name]));
  return (
    <section aria-labelledby="plan-title">
      <h2 id="plan-title">Where each step would run</h2>
      <ScrollingTable label="Plan">
        <table>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Cluster</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {plan.steps.map((s) => (
              <tr key={s.step}>
                <td>{s.step}</td>
                <td>
                  <ClusterId id={s.cluster} name={names.get(s.cluster)} />
                </td>
                <td>{s.reasons.join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollingTable>
    </section>
  );
}
