import { useState } from 'react';
import { Link } from 'react-router';
import { api, must, type Schemas } from '../api/client';
import { ConfirmButton, explainForbidden } from '../components/api-issues';
import { ErrorNotice, useDebounced, useLoad, when } from '../components/common';
import { ScrollingTable, TablePager, useTablePage } from '../components/table-pages';

type Reservation = Schemas['ComputeReservation'];
const RESOURCES = [
  { key: 'cores', label: 'Cores', unit: '' },
  { key: 'memoryMiB', label: 'Memory', unit: ' MiB' },
  { key: 'gpus', label: 'GPUs', unit: '' },
] as const;

const amount = (n: number | undefined, unit: string) => (n === undefined ? 'no limit' : `${n.toLocaleString()}${unit}`);

/** This cluster's compute: capacity, per-peer quota, what is in use and free; reservations, released on demand. */
export function ComputePage() {
  const status = useLoad((signal) => must(api.GET('/api/v1/providers/compute', { signal })), []);
  const [state, setState] = useState<'current' | 'all'>('current');
  const [requester, setRequester] = useState('');
  const requesterQuery = useDebounced(requester.trim(), 300);
  const reservations = useLoad(
    (signal) => must(api.GET('/api/v1/providers/compute/reservations', { params: { query: { state, limit: 500, ...(requesterQuery ? { requester: requesterQuery } : {}) } }, signal })),
    [state, requesterQuery],
  );
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [done, setDone] = useState('');
  const release = async (r: Reservation) => {
    setErrors((e) => ({ ...e, [r.id]: undefined }));
    setDone('');
    try {
      await must(api.DELETE('/api/v1/providers/compute/reservations/{id}', { params: { path: { id: r.id } } }));
      setDone(`Released reservation …${r.id.slice(-8)}: its resources are free now.`);
      reservations.reload();
      status.reload();
    } catch (err) {
      setErrors((e) => ({ ...e, [r.id]: explainForbidden(err, 'Only the reservation’s holder and cluster administrators may release it.') }));
    }
  };
  const s = status.data;
  const items = reservations.data?.items ?? [];
  const page = useTablePage(items, 20);
  return (
    <section>
      <h1>Compute</h1>
      <p>
        <Link to="/admin">Administration</Link>
      </p>
      <ErrorNotice error={status.error} />
      {s && (
        <>
          <ScrollingTable label="Compute capacity">
            <table>
              <caption>
                Provider <code>{s.providerId}</code>, as of {when(s.at)}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">Capacity</th>
                  <th scope="col">In use</th>
                  <th scope="col">Free</th>
                  <th scope="col">Quota per peer cluster</th>
                </tr>
              </thead>
              <tbody>
                {RESOURCES.map(({ key, label, unit }) => (
                  <tr key={key}>
                    <th scope="row">{label}</th>
                    <td>{amount(s.capacity[key], unit)}</td>
                    <td>
                      <meter min={0} max={s.capacity[key] || 1} value={s.inUse[key]} aria-label={`${label} in use`} /> {amount(s.inUse[key], unit)}
                    </td>
                    <td>{amount(s.free[key], unit)}</td>
                    <td>{s.peerQuota ? amount(s.peerQuota[key], unit) : 'no quota'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollingTable>
          <p className="help">
            A peer cluster may also be held to the compute <Link to="/admin/entries">catalog entries</Link> it sees (the largest of them), within this quota.
          </p>
        </>
      )}

      <h2>Reservations</h2>
      <form className="filters stack" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="reservations-state">Show</label>
        <select id="reservations-state" value={state} onChange={(e) => setState(e.target.value as typeof state)}>
          <option value="current">current (scheduled and active)</option>
          <option value="all">all (also expired and released)</option>
        </select>
        <label htmlFor="reservations-requester">Requester</label>
        <input id="reservations-requester" value={requester} placeholder="local, or a peer's cluster id" onChange={(e) => setRequester(e.target.value)} />
        <button
          type="button"
          onClick={() => {
            reservations.reload();
            status.reload();
          }}
        >
          Refresh
        </button>
      </form>
      <p className="help">Cluster administrators see every reservation; other users their own.</p>
      <p role="status">{done}</p>
      <ErrorNotice error={reservations.error} />
      {reservations.data && items.length === 0 && <p>No {state === 'current' ? 'current ' : ''}reservation.</p>}
      {items.length > 0 && (
        <>
          <p className="count">
            {items.length} reservation{items.length === 1 ? '' : 's'}
            {items.length === 500 ? ' (the first 500)' : ''}
          </p>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Reservation</th>
                  <th scope="col">For</th>
                  <th scope="col">Holds</th>
                  <th scope="col">Window</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <code title={r.id}>…{r.id.slice(-8)}</code>
                      </td>
                      <td>
                        {r.user ?? 'no user'}
                        <br />
                        {r.requester === 'local' ? (
                          'this cluster'
                        ) : (
                          <code title={r.requester}>
                            peer …{r.requester.slice(-8)}
                          </code>
                        )}
                      </td>
                      <td>
                        {r.cores} cores, {r.memoryMiB.toLocaleString()} MiB{r.gpus ? `, ${r.gpus} GPUs` : ''}
                      </td>
                      <td>
                        {when(r.start)} → {when(r.end)}
                        {r.releasedAt && <p className="meta">released {when(r.releasedAt)}</p>}
                      </td>
                      <td>
                        <span className={`state state-${r.state}`}>{r.state}</span>
                      </td>
                      <td>
                        {(r.state === 'scheduled' || r.state === 'active') && (
                          <ConfirmButton label={`Release reservation …${r.id.slice(-8)}`} confirm="Release it now?" onConfirm={() => release(r)}>
                            Release
                          </ConfirmButton>
                        )}
                        <ErrorNotice error={errors[r.id]} />
                      </td>
                    </tr>
                ))}
              </tbody>
            </table>
          </div>
          <TablePager {...page} label="Reservation" />
        </>
      )}
    </section>
  );
}
