import { useState } from 'react';
import { Link, useLocation } from 'react-router';
import { api, must, type CatalogEntry } from '../api/client';
import { ConfirmButton, explainForbidden } from '../components/api-issues';
import { ErrorNotice, useDebounced, useLoad, when } from '../components/common';

const KINDS = ['service', 'data', 'storage', 'compute'] as const;
const PAGE_SIZE = 25;

/** This cluster's catalog entries the caller may see, by name, a page at a time; edit and delete. */
export function EntriesPage() {
  const [kind, setKind] = useState<(typeof KINDS)[number] | ''>('');
  const [tag, setTag] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [done, setDone] = useState((useLocation().state as { done?: string } | null)?.done ?? '');
  const tagQuery = useDebounced(tag.trim().toLowerCase(), 300);
  const cursor = cursors.at(-1);
  const page = useLoad(
    (signal) =>
      must(
        api.GET('/api/v1/catalog/entries', {
          params: { query: { limit: PAGE_SIZE, ...(kind ? { kind } : {}), ...(tagQuery ? { tag: tagQuery } : {}), ...(cursor ? { cursor } : {}) } },
          signal,
        }),
      ),
    [kind, tagQuery, cursor],
  );
  const remove = async (entry: CatalogEntry) => {
    setErrors((e) => ({ ...e, [entry.id]: undefined }));
    setDone('');
    try {
      await must(api.DELETE('/api/v1/catalog/entries/{id}', { params: { path: { id: entry.id } } }));
      setDone(`Deleted "${entry.name}".`);
      page.reload();
    } catch (err) {
      setErrors((e) => ({ ...e, [entry.id]: explainForbidden(err, "Only the entry's owners and cluster administrators may delete it.") }));
    }
  };
  const items = page.data?.items ?? [];
  return (
    <section>
      <h1>Catalog entries</h1>
      <p>
        <Link to="/admin">Administration</Link> · <Link to="/admin/entries/new">New entry</Link>
      </p>
      <form className="filters stack" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="entries-kind">Kind</label>
        <select
          id="entries-kind"
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as typeof kind);
            setCursors([]);
          }}
        >
          <option value="">all kinds</option>
          {KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
        <label htmlFor="entries-tag">Tag</label>
        <input
          id="entries-tag"
          value={tag}
          placeholder="ocean"
          onChange={(e) => {
            setTag(e.target.value);
            setCursors([]);
          }}
        />
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
      </form>
      <p role="status">{done}</p>
      <ErrorNotice error={page.error} />
      {page.data && items.length === 0 && (
        <p>
          No entries {kind || tag ? 'match' : 'yet'}. <Link to="/admin/entries/new">Share a service, data, storage or compute</Link>.
        </p>
      )}
      {items.length > 0 && (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Visibility</th>
                <th scope="col">Owners</th>
                <th scope="col">Changed</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((entry) => (
                <tr key={entry.id}>
                  <td>
                    <Link to={`/catalog/local/${entry.id}`}>{entry.name}</Link>
                    {entry.tags.length > 0 && <p className="meta">{entry.tags.join(', ')}</p>}
                  </td>
                  <td>
                    <span className={`kind kind-${entry.kind}`}>{entry.kind}</span>
                  </td>
                  <td>
                    <span className="visibility">{entry.visibility}</span>
                    {entry.visibility === 'restricted' && entry.allowedProjects.length > 0 && (
                      <p className="meta">
                        {entry.allowedProjects.map((p, i) => {
                          const [cluster = '', project = p] = p.split('/');
                          return (
                            <span key={p} title={p}>
                              {i > 0 && ', '}
                              {project} <code>…{cluster.slice(-6)}</code>
                            </span>
                          );
                        })}
                      </p>
                    )}
                  </td>
                  <td>{entry.owners.join(', ')}</td>
                  <td>{when(entry.updatedAt)}</td>
                  <td>
                    <div className="actions">
                      <Link className="action-link" to={`/admin/entries/${entry.id}/edit`} aria-label={`Edit ${entry.name}`}>
                        Edit
                      </Link>
                      <ConfirmButton label={`Delete ${entry.name}`} confirm="Delete it, and revoke its open access grants?" onConfirm={() => remove(entry)}>
                        Delete
                      </ConfirmButton>
                    </div>
                    <ErrorNotice error={errors[entry.id]} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(cursors.length > 0 || page.data?.nextCursor) && (
        <nav className="pager" aria-label="Entry pages">
          <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous
          </button>
          <span>page {cursors.length + 1}</span>
          <button type="button" disabled={!page.data?.nextCursor} onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
