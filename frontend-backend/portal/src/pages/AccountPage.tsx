import { useState, type FormEvent } from 'react';
import { api, must, session, type Schemas } from '../api/client';
import { ConfirmButton, Field, placeIssues, problemProps } from '../components/api-issues';
import { ErrorNotice, useLoad, when } from '../components/common';
import { TablePager, useTablePage } from '../components/table-pages';

type User = Schemas['User'];

/** The caller's account: display name and password, and API tokens. */
export function AccountPage() {
  return (
    <section>
      <h1>Your account</h1>
      <Profile />
      <Tokens />
    </section>
  );
}

function Profile() {
  const me = useLoad((signal) => must(api.GET('/api/v1/auth/me', { signal })), []);
  const [changed, setChanged] = useState<User>();
  const user = changed ?? me.data;
  const [displayName, setDisplayName] = useState<string>();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>();
  const [mismatch, setMismatch] = useState('');
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const { byField, rest } = placeIssues(error, ['displayName', 'password']);
  const shownName = displayName ?? user?.displayName ?? '';

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!user) return;
    setError(undefined);
    setDone('');
    setMismatch('');
    if (password !== repeat) {
      setMismatch('the two passwords differ');
      return;
    }
    const change: Schemas['UserChange'] = {};
    if ((shownName.trim() || null) !== user.displayName) change.displayName = shownName.trim() || null;
    if (password) change.password = password;
    if (Object.keys(change).length === 0) {
      setDone('Nothing to change.');
      return;
    }
    setBusy(true);
    try {
      const changed = await must(api.PATCH('/api/v1/users/{user}', { params: { path: { user: user.name } }, body: change }));
      setChanged(changed);
      window.dispatchEvent(new Event('archipel:account-changed'));
      setPassword('');
      setRepeat('');
      setDone(`Saved${change.password ? ': sign in with the new password from now on (tokens stay valid)' : ''}.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h2>Profile</h2>
      <ErrorNotice error={me.error} />
      {user && (
        <form onSubmit={save} className="narrow-form" noValidate>
          <p>
            <strong>{user.name}</strong>
            {user.isAdmin ? ', cluster administrator' : ''}, since {when(user.createdAt)}
          </p>
          <Field id="account-display" label="Display name" problems={byField.displayName} help="empty: none">
            <input {...problemProps('account-display', byField.displayName, true)} autoComplete="name" value={shownName} onChange={(e) => setDisplayName(e.target.value)} />
          </Field>
          <Field id="account-password" label="New password" problems={byField.password} help="at least 8 characters; empty: keep the current one">
            <input {...problemProps('account-password', byField.password, true)} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </Field>
          <Field id="account-repeat" label="New password again" problems={mismatch ? [mismatch] : undefined}>
            <input {...problemProps('account-repeat', mismatch ? [mismatch] : undefined)} type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
          </Field>
          <ErrorNotice error={rest} />
          <p role="status">{done}</p>
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </form>
      )}
    </>
  );
}

const EXPIRIES = [
  { label: 'never', seconds: 0 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
  { label: '90 days', seconds: 90 * 86_400 },
  { label: '1 year', seconds: 365 * 86_400 },
];

function Tokens() {
  const tokens = useLoad((signal) => must(api.GET('/api/v1/tokens', { signal })), []);
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState(30 * 86_400);
  const [issued, setIssued] = useState<Schemas['IssuedApiToken']>();
  const [copied, setCopied] = useState('');
  const [error, setError] = useState<unknown>();
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [done, setDone] = useState('');
  const { byField, rest } = placeIssues(error, ['name', 'expiresInSeconds']);
  const items = tokens.data?.items ?? [];
  const page = useTablePage(items, 20);
  const current = session.token();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setCopied('');
    setDone('');
    try {
      const token = await must(api.POST('/api/v1/tokens', { body: { name: name.trim(), ...(expiry ? { expiresInSeconds: expiry } : {}) } }));
      setIssued(token);
      setName('');
      tokens.reload();
    } catch (err) {
      setError(err);
    }
  };
  const copy = async () => {
    if (!issued) return;
    try {
      await navigator.clipboard.writeText(issued.token);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser did not let the portal copy: select the token and copy it yourself.');
    }
  };
  const revoke = async (t: Schemas['ApiToken']) => {
    setErrors((e) => ({ ...e, [t.id]: undefined }));
    setDone('');
    try {
      await must(api.DELETE('/api/v1/tokens/{id}', { params: { path: { id: t.id } } }));
      setDone(`Revoked token "${t.name}".`);
      if (issued?.id === t.id) setIssued(undefined);
      tokens.reload();
    } catch (err) {
      setErrors((e) => ({ ...e, [t.id]: err }));
    }
  };
  return (
    <>
      <h2>API tokens</h2>
      <p className="help">
        For scripts and the command line: send one as <code>Authorization: Bearer arc_…</code>. Signing in makes a token named &quot;login&quot; that lasts 12 hours.
      </p>
      <ErrorNotice error={tokens.error} />
      <p role="status">{done}</p>
      {tokens.data && items.length === 0 && <p>No token.</p>}
      {items.length > 0 && (
        <>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Starts with</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((t) => {
                  const mine = current !== null && current.startsWith(t.prefix);
                  return (
                    <tr key={t.id}>
                      <td>
                        {t.name}
                        {mine && <p className="meta">this browser tab&apos;s token</p>}
                      </td>
                      <td>
                        <code>{t.prefix}…</code>
                      </td>
                      <td>{when(t.createdAt)}</td>
                      <td>{t.expiresAt ? when(t.expiresAt) : 'never'}</td>
                      <td>{t.lastUsedAt ? when(t.lastUsedAt) : 'never'}</td>
                      <td>
                        <ConfirmButton label={`Revoke token ${t.name}`} confirm={mine ? 'Revoke it? This signs you out.' : 'Revoke it? What uses it stops working.'} onConfirm={() => revoke(t)}>
                          Revoke
                        </ConfirmButton>
                        <ErrorNotice error={errors[t.id]} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <TablePager {...page} label="Token" />
        </>
      )}
      <form onSubmit={create} className="narrow-form" noValidate>
        <h3>New token</h3>
        <Field id="token-name" label="Name" problems={byField.name} help="what it is for: ci, laptop, …">
          <input {...problemProps('token-name', byField.name, true)} required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="token-expiry" label="Expires after" problems={byField.expiresInSeconds}>
          <select {...problemProps('token-expiry', byField.expiresInSeconds)} value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
            {EXPIRIES.map((x) => (
              <option key={x.seconds} value={x.seconds}>
                {x.label}
              </option>
            ))}
          </select>
        </Field>
        <ErrorNotice error={rest} />
        <button type="submit" disabled={!name.trim()}>
          Create token
        </button>
      </form>
      {issued && (
        <div className="secret" role="region" aria-labelledby="secret-title">
          <h3 id="secret-title">Your new token &quot;{issued.name}&quot;</h3>
          <p>
            <strong>Copy it now:</strong> this is the only time it is shown; the node keeps only its hash. Lost, revoke it and make another.
          </p>
          <label htmlFor="secret-value">Token secret</label>
          <input id="secret-value" className="secret-value" readOnly value={issued.token} onFocus={(e) => e.target.select()} />
          <div className="actions">
            <button type="button" onClick={() => void copy()}>
              Copy
            </button>
            <button type="button" className="secondary" onClick={() => setIssued(undefined)}>
              I have saved it
            </button>
          </div>
          <p role="status">{copied}</p>
        </div>
      )}
    </>
  );
}
