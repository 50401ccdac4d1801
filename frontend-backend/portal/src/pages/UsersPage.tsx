import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, must } from '../api/client';
import { explainForbidden, Field, FieldProblem, placeIssues, problemProps } from '../components/api-issues';
import { ErrorNotice, useLoad, when } from '../components/common';
import { ScrollingTable, TablePager, useTablePage } from '../components/table-pages';


/** This cluster's users, and new ones (cluster administrators only: others get the API's 403 in words). */
export function UsersPage() {
  const users = useLoad((signal) => must(api.GET('/api/v1/users', { signal })), []);
  const items = users.data?.items ?? [];
  const page = useTablePage(items, 25);
  const [created, setCreated] = useState('');
  return (
    <section>
      <h1>Users</h1>
      <p>
        <Link to="/admin">Administration</Link>
      </p>
      <ErrorNotice error={explainForbidden(users.error, 'Only cluster administrators may see and create users.')} />
      {users.data && (
        <>
          <p className="count">
            {items.length} user{items.length === 1 ? '' : 's'}
          </p>
          <ScrollingTable label="Users">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Display name</th>
                  <th scope="col">Administrator</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((u) => (
                  <tr key={u.id}>
                    <td>{u.name}</td>
                    <td>{u.displayName ?? '—'}</td>
                    <td>{u.isAdmin ? 'yes' : 'no'}</td>
                    <td>{when(u.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollingTable>
          <TablePager {...page} label="User" />
          <p role="status">{created}</p>
          <NewUser
            onCreated={(name) => {
              setCreated(`Created user "${name}".`);
              users.reload();
            }}
          />
        </>
      )}
    </section>
  );
}

const FIELDS = ['name', 'password', 'displayName', 'isAdmin'];

function NewUser({ onCreated }: { onCreated(name: string): void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [isAdmin, setIsAdmin] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const { byField, rest } = placeIssues(error, FIELDS);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const user = await must(
        api.POST('/api/v1/users', { body: { name: name.trim(), ...(password ? { password } : {}), ...(displayName.trim() ? { displayName: displayName.trim() } : {}), isAdmin } }),
      );
      setName('');
      setPassword('');
      setDisplayName('');
      setIsAdmin(false);
      onCreated(user.name);
    } catch (err) {
      setError(explainForbidden(err, 'Only cluster administrators may create users.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="narrow-form" noValidate>
      <h2>New user</h2>
      <Field id="new-user-name" label="User name" problems={byField.name} help="1-63 lower-case letters, digits, ., _ or -, starting and ending with a letter or digit">
        <input {...problemProps('new-user-name', byField.name, true)} autoComplete="off" required value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field id="new-user-password" label="Password" problems={byField.password} help="at least 8 characters; empty: no password (the user cannot sign in until one is set)">
        <input {...problemProps('new-user-password', byField.password, true)} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      <Field id="new-user-display" label="Display name" problems={byField.displayName}>
        <input {...problemProps('new-user-display', byField.displayName)} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
      </Field>
      <div className={byField.isAdmin ? 'field invalid checkbox' : 'field checkbox'}>
        <label>
          <input type="checkbox" {...problemProps('new-user-admin', byField.isAdmin)} checked={isAdmin} onChange={(e) => setIsAdmin(e.target.checked)} /> Cluster administrator
        </label>
        <FieldProblem id="new-user-admin" problems={byField.isAdmin} />
      </div>
      <ErrorNotice error={rest} />
      <button type="submit" disabled={busy || !name.trim()}>
        {busy ? 'Creating…' : 'Create user'}
      </button>
    </form>
  );
}
