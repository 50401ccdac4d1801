import { Link } from 'react-router';
import { ApiError, api, must } from '../api/client';
import { useLoad } from '../components/common';

const SECTIONS = [
  { to: '/admin/entries', title: 'Catalog entries', what: "this cluster's shared services, data, storage and compute: create, edit, share, delete" },
  { to: '/admin/compute', title: 'Compute', what: 'capacity, quotas, what is in use, and reservations to release' },
  { to: '/admin/grants', title: 'Access grants', what: 'grants to data and storage (revoke), and your own grants for catalog entries (give back)' },
  { to: '/admin/users', title: 'Users', what: "this cluster's users, and new ones (cluster administrators)" },
  { to: '/admin/projects', title: 'Projects', what: 'your projects, new ones, and their members' },
] as const;

/** The operator's sections, and whether the caller is a cluster administrator (the users list answers only them). */
export function AdminPage() {
  const users = useLoad((signal) => must(api.GET('/api/v1/users', { signal })), []);
  const notAdmin = users.error instanceof ApiError && users.error.status === 403;
  return (
    <section>
      <h1>Administration</h1>
      {notAdmin && (
        <p className="notice" role="status">
          You are not a cluster administrator: you see and change your own entries, projects, reservations and grants; users, and everyone else&apos;s grants and
          reservations, are for administrators.
        </p>
      )}
      <ul className="admin-sections">
        {SECTIONS.map((s) => (
          <li key={s.to}>
            <Link to={s.to}>{s.title}</Link>
            <p>{s.what}</p>
          </li>
        ))}
      </ul>
      <p>
        Your password, display name and API tokens are on your <Link to="/account">account</Link> page.
      </p>
    </section>
  );
}
