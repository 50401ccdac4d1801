import { useState } from 'react';
import { Link } from 'react-router';
import { api, must, type Schemas } from '../api/client';
import { ConfirmButton, explainForbidden } from '../components/api-issues';
import { ClusterId, ErrorNotice, useLoad, when } from '../components/common';
import { TablePager, useTablePage } from '../components/table-pages';

type Grant = Schemas['AccessGrant'];
type EntryGrant = Schemas['ListedEntryGrant'];

/** A target in a few words: `s3 ocean-data/sst/`, `directory /srv/data`, `postgresql public.samples`. */
function describeTarget(g: Grant): string {
  const t = g.target as Record<string, unknown>;
  const where = (t.source ?? t.target ?? t) as Record<string, unknown>;
  const text = [where.path, where.bucket && `${String(where.bucket)}/${String(where.prefix ?? '')}`, where.table, where.query, where.schema].find((v) => typeof v === 'string' && v !== '');
  return `${g.targetType}${text ? ` ${String(text)}` : ''}`;
}

/** Access grants: those made here (every one for administrators, the caller's own otherwise), and the caller's grants for catalog entries. */
export function GrantsPage() {
  return (
    <section>
      <h1>Access grants</h1>
      <p>
        <Link to="/admin">Administration</Link>
      </p>
      <Grants />
      <EntryGrants />
    </section>
  );
}

function Grants() {
  const [state, setState] = useState<'open' | 'all'>('open');
  const grants = useLoad((signal) => must(api.GET('/api/v1/providers/grants', { params: { query: { state, limit: 500 } }, signal })), [state]);
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [done, setDone] = useState('');
  const items = grants.data?.items ?? [];
  const page = useTablePage(items, 20);
  const revoke = async (g: Grant) => {
    setErrors((e) => ({ ...e, [g.id]: undefined }));
    setDone('');
    try {
      await must(api.DELETE('/api/v1/providers/grants/{id}', { params: { path: { id: g.id } } }));
      setDone(`Revoked grant …${g.id.slice(-8)} of ${g.grantee.user}.`);
      grants.reload();
    } catch (err) {
      setErrors((e) => ({ ...e, [g.id]: explainForbidden(err, 'Only cluster administrators and the user a grant was made for may revoke it.') }));
    }
  };
  return (
    <>
      <h2>Grants made by this cluster</h2>
      <p className="help">Cluster administrators see every grant; other users the grants made for them.</p>
      <form className="filters stack" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="grants-state">Show</label>
        <select id="grants-state" value={state} onChange={(e) => setState(e.target.value as typeof state)}>
          <option value="open">open (not revoked yet)</option>
          <option value="all">all (also revoked)</option>
        </select>
        <button type="button" onClick={grants.reload}>
          Refresh
        </button>
      </form>
      <p role="status">{done}</p>
      <ErrorNotice error={grants.error} />
      {grants.data && items.length === 0 && <p>No {state === 'open' ? 'open ' : ''}grant.</p>}
      {items.length > 0 && (
        <>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Grant</th>
                  <th scope="col">Target</th>
                  <th scope="col">For</th>
                  <th scope="col">Made by</th>
                  <th scope="col">Valid</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((g) => (
                  <tr key={g.id}>
                    <td>
                      <code title={g.id}>…{g.id.slice(-8)}</code>
                      <p className="meta">{g.entryId ? <Link to={`/catalog/local/${g.entryId}`}>catalog entry</Link> : 'made by an administrator'}</p>
                    </td>
                    <td>
                      {g.kind}: <code>{describeTarget(g)}</code>
                    </td>
                    <td>
                      {g.grantee.user}
                      {g.grantee.cluster !== 'local' && (
                        <>
                          {' '}
                          of <ClusterId id={g.grantee.cluster} />
                        </>
                      )}
                    </td>
                    <td>{g.createdBy ?? '—'}</td>
                    <td>
                      {when(g.createdAt)} → {when(g.expiresAt)}
                      {g.revokedAt && <p className="meta">revoked {when(g.revokedAt)}</p>}
                    </td>
                    <td>
                      <span className={`state state-${g.state}`}>{g.state}</span>
                    </td>
                    <td>
                      {g.state !== 'revoked' && (
                        <ConfirmButton label={`Revoke grant …${g.id.slice(-8)} of ${g.grantee.user}`} confirm="Revoke it now?" onConfirm={() => revoke(g)}>
                          Revoke
                        </ConfirmButton>
                      )}
                      <ErrorNotice error={errors[g.id]} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <TablePager {...page} label="Grant" />
        </>
      )}
    </>
  );
}

function EntryGrants() {
  const [cluster, setCluster] = useState('');
  const [state, setState] = useState<'open' | 'all'>('open');
  const peers = useLoad((signal) => must(api.GET('/api/v1/discovery/peers', { signal })), []);
  const grants = useLoad(
    (signal) => must(api.GET('/api/v1/providers/access', { params: { query: { state, limit: 500, ...(cluster ? { cluster } : {}) } }, signal })),
    [cluster, state],
  );
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [done, setDone] = useState('');
  const items = grants.data?.items ?? [];
  const page = useTablePage(items, 20);
  const peered = (peers.data?.items ?? []).filter((p) => p.state === 'peered');
  const giveBack = async (g: EntryGrant) => {
    setErrors((e) => ({ ...e, [g.id]: undefined }));
    setDone('');
    try {
      await must(api.DELETE('/api/v1/providers/access/{grantId}', { params: { path: { grantId: g.id }, query: cluster ? { cluster } : {} } }));
      setDone(`Gave back your access to ${g.entryName ?? 'the entry'}.`);
      grants.reload();
    } catch (err) {
      setErrors((e) => ({ ...e, [g.id]: err }));
    }
  };
  return (
    <>
      <h2>Your access to catalog entries</h2>
      <p className="help">
        The grants made for you to data and storage entries, by this cluster or a peered one. Ask for access from an entry&apos;s page in the <Link to="/catalog">catalog</Link>.
      </p>
      <form className="filters stack" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="access-cluster">Granted by</label>
        <select id="access-cluster" value={cluster} onChange={(e) => setCluster(e.target.value)}>
          <option value="">this cluster</option>
          {peered.map((p) => (
            <option key={p.clusterId} value={p.clusterId}>
              {p.name ?? p.clusterId}
            </option>
          ))}
        </select>
        <label htmlFor="access-state">Show</label>
        <select id="access-state" value={state} onChange={(e) => setState(e.target.value as typeof state)}>
          <option value="open">open (not revoked yet)</option>
          <option value="all">all (also revoked)</option>
        </select>
        <button type="button" onClick={grants.reload}>
          Refresh
        </button>
      </form>
      <ErrorNotice error={peers.error} />
      <p role="status">{done}</p>
      <ErrorNotice error={grants.error} />
      {grants.data && items.length === 0 && <p>No {state === 'open' ? 'open ' : ''}grant for you there.</p>}
      {items.length > 0 && (
        <>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Entry</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Valid</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((g) => (
                  <tr key={g.id}>
                    <td>
                      {g.entryName ? <Link to={`/catalog/${cluster || 'local'}/${g.entryId}`}>{g.entryName}</Link> : <span>an entry you may no longer see</span>}
                      <p className="meta">
                        grant <code title={g.id}>…{g.id.slice(-8)}</code>
                      </p>
                    </td>
                    <td>
                      {g.kind} ({g.targetType})
                    </td>
                    <td>
                      {when(g.createdAt)} → {when(g.expiresAt)}
                      {g.revokedAt && <p className="meta">revoked {when(g.revokedAt)}</p>}
                    </td>
                    <td>
                      <span className={`state state-${g.state}`}>{g.state}</span>
                    </td>
                    <td>
                      {g.state !== 'revoked' && (
                        <ConfirmButton label={`Give back access to ${g.entryName ?? `grant …${g.id.slice(-8)}`}`} confirm="Give it back now?" onConfirm={() => giveBack(g)}>
                          Give back
                        </ConfirmButton>
                      )}
                      <ErrorNotice error={errors[g.id]} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <TablePager {...page} label="Access grant" />
        </>
      )}
    </>
  );
}
