import { useEffect, useState } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import { api, must, session } from './api/client';
import { useLoad } from './components/common';
import { AccountPage } from './pages/AccountPage';
import { AdminPage } from './pages/AdminPage';
import { CatalogPage } from './pages/CatalogPage';
import { ClusterPage } from './pages/ClusterPage';
import { ComputePage } from './pages/ComputePage';
import { EntriesPage } from './pages/EntriesPage';
import { EntryFormPage } from './pages/EntryFormPage';
import { EntryPage } from './pages/EntryPage';
import { GrantsPage } from './pages/GrantsPage';
import { LoginPage, takeReturnPath } from './pages/LoginPage';
import { PeersPage } from './pages/PeersPage';
import { ProjectsPage } from './pages/ProjectsPage';
import { RunPage } from './pages/RunPage';
import { RunsPage } from './pages/RunsPage';
import { SubmitPage } from './pages/SubmitPage';
import { UsersPage } from './pages/UsersPage';

function useSignedIn(): boolean {
  const [signedIn, setSignedIn] = useState(() => session.token() !== null);
  useEffect(() => {
    const update = () => setSignedIn(session.token() !== null);
    window.addEventListener('archipel:signed-out', update);
    window.addEventListener('archipel:signed-in', update);
    // A page's own effects run before this one: one may have signed in already (single sign-on's return).
    update();
    return () => {
      window.removeEventListener('archipel:signed-out', update);
      window.removeEventListener('archipel:signed-in', update);
    };
  }, []);
  return signedIn;
}

function Shell() {
  const signedIn = useSignedIn();
  const location = useLocation();
  // Each page names itself in the tab; a screen reader hears the new page's heading.
  useEffect(() => document.getElementById('main')?.focus({ preventScroll: true }), [location.pathname]);
  if (!signedIn && location.pathname !== '/login') return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  if (!signedIn) return <LoginPage />;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Archipel</span>
        <nav aria-label="Main">
          <NavLink to="/catalog">Catalog</NavLink>
          <NavLink to="/submit">Submit</NavLink>
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/cluster">Cluster</NavLink>
          <NavLink to="/peers">Peers</NavLink>
          <NavLink to="/admin">Admin</NavLink>
          <NavLink to="/account">Account</NavLink>
        </nav>
        <SignedInAs />
        <button type="button" className="link" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Navigate to="/catalog" replace />} />
          <Route path="/login" element={<BackFromLogin />} />
          <Route path="/catalog" element={<CatalogPage />} />
          <Route path="/catalog/:cluster/:id" element={<EntryPage />} />
          <Route path="/submit" element={<SubmitPage />} />
          <Route path="/runs" element={<RunsPage />} />
          <Route path="/runs/:id" element={<RunPage />} />
          <Route path="/cluster" element={<ClusterPage />} />
          <Route path="/peers" element={<PeersPage />} />
          <Route path="/admin" element={<AdminPage />} />
          <Route path="/admin/entries" element={<EntriesPage />} />
          <Route path="/admin/entries/new" element={<EntryFormPage key="new" />} />
          <Route path="/admin/entries/:id/edit" element={<EntryFormPage key="edit" />} />
          <Route path="/admin/compute" element={<ComputePage />} />
          <Route path="/admin/grants" element={<GrantsPage />} />
          <Route path="/admin/users" element={<UsersPage />} />
          <Route path="/admin/projects" element={<ProjectsPage />} />
          <Route path="/account" element={<AccountPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </>
  );
}

function SignedInAs() {
  const me = useLoad((signal) => must(api.GET('/api/v1/auth/me', { signal })), []);
  const { reload } = me;
  useEffect(() => {
    window.addEventListener('archipel:account-changed', reload);
    return () => window.removeEventListener('archipel:account-changed', reload);
  }, [reload]);
  if (!me.data) return null;
  return (
    <NavLink to="/account" className="whoami">
      {me.data.displayName ?? me.data.name}
      {me.data.isAdmin ? ' (admin)' : ''}
    </NavLink>
  );
}

/** Signed in on the login page: on to where the user was going. */
function BackFromLogin() {
  const state = useLocation().state as unknown;
  const [to] = useState(() => takeReturnPath(state));
  return <Navigate to={to} replace />;
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page here. Go to the <NavLink to="/catalog">catalog</NavLink>.
      </p>
    </section>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <Shell />
    </BrowserRouter>
  );
}
