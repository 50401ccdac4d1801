import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, must, type CatalogEntry } from '../api/client';
import { ClusterId, ErrorNotice, useDebounced, useLoad } from '../components/common';
import { TablePager, useTablePage } from '../components/table-pages';

const KINDS = ['service', 'data', 'storage', 'compute'] as const;
const VISIBILITIES = ['public', 'restricted', 'private'] as const;
type Kind = (typeof KINDS)[number];

/** The federated catalog: search as you type over this cluster and its peers, each result labelled with its origin. */
export function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get('q') ?? '');
  const kind = (params.get('kind') ?? '') as Kind | '';
  const visibility = params.get('visibility') ?? '';
  const query = useDebounced(q.trim(), 250);
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const identity = useLoad((signal) => must(api.GET('/api/v1/discovery/identity', { signal })), []);
  const peers = useLoad((signal) => must(api.GET('/api/v1/discovery/peers', { signal })), []);
  // This cluster's entries show at once; the federation's follow when the peers have answered (or
  // their time is up), so that a slow peer never holds the page.
  const search = (scope: 'local' | 'federation') => (signal: AbortSignal) =>
    must(
      api.GET('/api/v1/catalog/search', {
        params: { query: { scope, limit: 200, ...(scope === 'federation' ? { timeoutMs: 3000 } : {}), ...(query ? { q: query } : {}), ...(kind ? { kind } : {}) } },
        signal,
      }),
    );
  const local = useLoad(search('local'), [query, kind]);
  const federated = useLoad(search('federation'), [query, kind]);
  const results = !federated.loading && federated.data ? federated : local.data ? local : federated;
  const names = new Map<string, string>();
  for (const p of peers.data?.items ?? []) if (p.name) names.set(p.clusterId, p.name);
  if (identity.data) names.set(identity.data.clusterId, `${identity.data.name} (this cluster)`);
  const items = (results.data?.items ?? []).filter((e) => !visibility || e.visibility === visibility);
  const here = identity.data?.clusterId;
  const page = useTablePage(items, 20);
  return (
    <section>
      <h1>Catalog</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="catalog-q">Search</label>
        <input id="catalog-q" type="search" value={q} placeholder="words in the name, description or tags" onChange={(e) => setQ(e.target.value)} />
        <label htmlFor="catalog-kind">Kind</label>
        <select id="catalog-kind" value={kind} onChange={(e) => set('kind', e.target.value)}>
          <option value="">all kinds</option>
          {KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
        <label htmlFor="catalog-visibility">Visibility</label>
        <select id="catalog-visibility" value={visibility} onChange={(e) => set('visibility', e.target.value)}>
          <option value="">any visibility</option>
          {VISIBILITIES.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      </form>
      <ErrorNotice error={federated.error ?? local.error} />
      {results.data?.unanswered && results.data.unanswered.length > 0 && (
        <p className="notice" role="status">
          Results may be incomplete: {results.data.unanswered.map((u) => `${u.name ?? u.clusterId} (${u.reason}: ${u.message})`).join('; ')} did not answer.
        </p>
      )}
      <p className="count" aria-live="polite">
        {results.loading && !results.data ? 'Searching…' : `${items.length} ${items.length === 1 ? 'entry' : 'entries'}${federated.loading ? ' here; asking the peered clusters…' : ''}`}
      </p>
      <ul className="results">
        {page.rows.map((entry: CatalogEntry & { origin?: string }) => {
          const origin = entry.origin ?? entry.ownerCluster;
          return (
            <li key={`${origin}/${entry.id}`} className="result">
              <Link to={`/catalog/${origin === here ? 'local' : origin}/${entry.id}`}>{entry.name}</Link> <span className={`kind kind-${entry.kind}`}>{entry.kind}</span>{' '}
              <span className="visibility">{entry.visibility}</span>
              <p>{entry.description}</p>
              <p className="meta">
                from <ClusterId id={origin} name={names.get(origin)} />
                {entry.tags.length > 0 && <> · {entry.tags.join(', ')}</>}
              </p>
            </li>
          );
        })}
      </ul>
      <TablePager {...page} label="Results" />
    </section>
  );
}
