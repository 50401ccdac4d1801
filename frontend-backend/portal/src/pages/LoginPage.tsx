import { useEffect, useState, type FormEvent } from 'react';
import { useLocation } from 'react-router';
import { api, must, session, toApiError } from '../api/client';
import { ErrorNotice, useLoad } from '../components/common';

const RETURN_KEY = 'archipel.return';

/** Where to go once signed in: where the user was sent to sign in from, or what single sign-on brought back. */
export function takeReturnPath(state: unknown): string {
  const kept = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  const from = (state as { from?: string } | null)?.from ?? kept;
  return from && from.startsWith('/') && !from.startsWith('//') && from !== '/login' ? from : '/catalog';
}

function signedIn(token: string, returnPath?: string) {
  session.signIn(token);
  if (returnPath) sessionStorage.setItem(RETURN_KEY, returnPath);
  // The signed-in shell takes the user on to where they were going (BackFromLogin).
  window.dispatchEvent(new Event('archipel:signed-in'));
}

/**
 * Signing in: with a password, with an API token (the bootstrap admin has only `admin.token` at first),
 * or through the cluster's OpenID Connect provider when one is configured.
 */
export function LoginPage() {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [tokenError, setTokenError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const from = (useLocation().state as { from?: string } | null)?.from ?? '/catalog';
  const providers = useLoad((signal) => must(api.GET('/api/v1/auth/providers', { signal })), []);

  // Back from the identity provider: the node put the token (or what went wrong) in the fragment, which no server sees.
  useEffect(() => {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    if (!fragment.has('token') && !fragment.has('error')) return;
    window.history.replaceState(window.history.state, '', window.location.pathname);
    const issued = fragment.get('token');
    if (issued) signedIn(issued, fragment.get('return') ?? undefined);
    else setError(new Error(`Single sign-on failed: ${fragment.get('error')}`));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const issued = await must(api.POST('/api/v1/auth/login', { body: { user, password } }));
      signedIn(issued.token);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const signInWithToken = async (e: FormEvent) => {
    e.preventDefault();
    setTokenError(undefined);
    const secret = token.trim();
    const answer = await fetch('/api/v1/tokens', { headers: { Authorization: `Bearer ${secret}` } });
    if (!answer.ok) return setTokenError(toApiError(answer.status, await answer.json().catch(() => undefined)));
    signedIn(secret);
  };
  const oidc = providers.data?.oidc;
  return (
    <main id="main" className="login">
      <h1>Sign in to Archipel</h1>
      {oidc && (
        <p>
          <a className="button" href={`${oidc.start}?return=${encodeURIComponent(from)}`}>
            Sign in with {oidc.name}
          </a>
        </p>
      )}
      <form onSubmit={submit} aria-label="Sign in with a password">
        <label htmlFor="user">User name</label>
        <input id="user" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <details>
        <summary>Sign in with an API token</summary>
        <form onSubmit={signInWithToken} aria-label="Sign in with an API token">
          <label htmlFor="token">API token (the first time: the contents of the node's admin.token)</label>
          <input id="token" type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)} />
          <ErrorNotice error={tokenError} />
          <button type="submit">Sign in with the token</button>
        </form>
      </details>
    </main>
  );
}
