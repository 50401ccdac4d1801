import { useState } from 'react';
import { Link } from 'react-router';
import { api, must, type Run } from '../api/client';
import { duration, ErrorNotice, Phase, useLoad, when } from '../components/common';
import { ScrollingTable } from '../components/table-pages';

const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Error'] as const;

/** The runs of the caller's projects, newest first, a page at a time. */
export function RunsPage() {
  const [phase, setPhase] = useState<(typeof PHASES)[number] | ''>('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = useLoad(
    (signal) => must(api.GET('/api/v1/runs', { params: { query: { limit: 25, ...(phase ? { phase } : {}), ...(cursor ? { cursor } : {}) } }, signal })),
    [phase, cursor],
  );
  return (
    <section>
      <h1>Runs</h1>
      <div className="filters">
        <label htmlFor="runs-phase">Phase</label>
        <select
          id="runs-phase"
          value={phase}
          onChange={(e) => {
            setPhase(e.target.value as typeof phase);
            setCursors([]);
          }}
        >
          <option value="">any phase</option>
          {PHASES.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
      </div>
      <ErrorNotice error={page.error} />
      {page.data && page.data.items.length === 0 && (
        <p>
          No runs yet. <Link to="/submit">Submit a workflow</Link> or run a service from the <Link to="/catalog">catalog</Link>.
        </p>
      )}
      {page.data && page.data.items.length > 0 && (
        <ScrollingTable label="Runs">
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Project</th>
                <th scope="col">Phase</th>
                <th scope="col">Steps</th>
                <th scope="col">Submitted</th>
                <th scope="col">Took</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((run: Run) => (
                <tr key={run.id}>
                  <td>
                    <Link to={`/runs/${run.id}`}>{run.name}</Link>
                  </td>
                  <td>{run.project}</td>
                  <td>
                    <Phase phase={run.phase} />
                  </td>
                  <td>
                    {run.steps.filter((s) => s.phase === 'Succeeded').length}/{run.steps.length}
                  </td>
                  <td>{when(run.createdAt)}</td>
                  <td>{duration(run.startedAt, run.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollingTable>
      )}
      <nav className="pager" aria-label="Run pages">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}>
          Older
        </button>
      </nav>
    </section>
  );
}
