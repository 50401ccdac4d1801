import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, must } from '../api/client';
import { ConfirmButton, explainForbidden, Field, placeIssues, problemProps } from '../components/api-issues';
import { ErrorNotice, useLoad, when } from '../components/common';
import { TablePager, useTablePage } from '../components/table-pages';

const NAME_HELP = '1-63 lower-case letters, digits, ., _ or -, starting and ending with a letter or digit';

/** The caller's projects (every one for cluster administrators), new ones, and the members of the chosen one. */
export function ProjectsPage() {
  const [params, setParams] = useSearchParams();
  const chosen = params.get('project') ?? '';
  const projects = useLoad((signal) => must(api.GET('/api/v1/projects', { signal })), []);
  const items = projects.data?.items ?? [];
  const page = useTablePage(items, 20);
  const choose = (project: string) => setParams(project ? { project } : {}, { replace: true });
  return (
    <section>
      <h1>Projects</h1>
      <p>
        <Link to="/admin">Administration</Link>
      </p>
      <ErrorNotice error={projects.error} />
      {projects.data && items.length === 0 && <p>You are in no project yet: create one below.</p>}
      {items.length > 0 && (
        <>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Description</th>
                  <th scope="col">Created</th>
                  <th scope="col">Members</th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((p) => (
                  <tr key={p.id} className={p.name === chosen ? 'selected' : undefined}>
                    <td>{p.name}</td>
                    <td>{p.description || '—'}</td>
                    <td>{when(p.createdAt)}</td>
                    <td>
                      <button type="button" className="secondary" aria-pressed={p.name === chosen} aria-label={`Members of ${p.name}`} onClick={() => choose(p.name === chosen ? '' : p.name)}>
                        {p.name === chosen ? 'Hide members' : 'Members'}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <TablePager {...page} label="Project" />
        </>
      )}
      {chosen && <Members key={chosen} project={chosen} />}
      <NewProject
        onCreated={(name) => {
          projects.reload();
          choose(name);
        }}
      />
    </section>
  );
}

function NewProject({ onCreated }: { onCreated(name: string): void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState('');
  const { byField, rest } = placeIssues(error, ['name', 'description']);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setDone('');
    try {
      const project = await must(api.POST('/api/v1/projects', { body: { name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}) } }));
      setName('');
      setDescription('');
      setDone(`Created project "${project.name}": you are its administrator.`);
      onCreated(project.name);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={submit} className="narrow-form" noValidate>
      <h2>New project</h2>
      <Field id="new-project-name" label="Project name" problems={byField.name} help={NAME_HELP}>
        <input {...problemProps('new-project-name', byField.name, true)} required value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field id="new-project-description" label="Description" problems={byField.description}>
        <textarea {...problemProps('new-project-description', byField.description)} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <ErrorNotice error={rest} />
      <p role="status">{done}</p>
      <button type="submit" disabled={!name.trim()}>
        Create project
      </button>
    </form>
  );
}


function Members({ project }: { project: string }) {
  const members = useLoad((signal) => must(api.GET('/api/v1/projects/{project}/members', { params: { path: { project } }, signal })), [project]);
  const [user, setUser] = useState('');
  const [role, setRole] = useState<'member' | 'admin'>('member');
  const [addError, setAddError] = useState<unknown>();
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [done, setDone] = useState('');
  const { byField, rest } = placeIssues(addError, ['user', 'role']);
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setAddError(undefined);
    setDone('');
    try {
      const member = await must(api.POST('/api/v1/projects/{project}/members', { params: { path: { project } }, body: { user: user.trim(), role } }));
      setUser('');
      setDone(`Added ${member.user} as ${member.role}.`);
      members.reload();
    } catch (err) {
      setAddError(explainForbidden(err, "Only the project's administrators and cluster administrators may add members."));
    }
  };
  const remove = async (name: string) => {
    setErrors((e) => ({ ...e, [name]: undefined }));
    setDone('');
    try {
      await must(api.DELETE('/api/v1/projects/{project}/members/{user}', { params: { path: { project, user: name } } }));
      setDone(`Removed ${name} from ${project}.`);
      members.reload();
    } catch (err) {
      setErrors((e) => ({ ...e, [name]: explainForbidden(err, "Only the project's administrators and cluster administrators may remove members.") }));
    }
  };
  const items = members.data?.items ?? [];
  const page = useTablePage(items, 20);
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members of {project}</h2>
      <ErrorNotice error={members.error} />
      <p role="status">{done}</p>
      {items.length > 0 && (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((m) => (
                <tr key={m.userId}>
                  <td>{m.user}</td>
                  <td>{m.role}</td>
                  <td>{when(m.addedAt)}</td>
                  <td>
                    <ConfirmButton label={`Remove ${m.user} from ${project}`} confirm={`Remove ${m.user}?`} onConfirm={() => remove(m.user)}>
                      Remove
                    </ConfirmButton>
                    <ErrorNotice error={errors[m.user]} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <TablePager {...page} label="Member" />
        </div>
      )}
      <form onSubmit={add} className="filters member-form" noValidate>
        <div className={byField.user ? 'field invalid' : 'field'}>
          <label htmlFor="member-user">User to add</label>
          <input {...problemProps('member-user', byField.user)} value={user} onChange={(e) => setUser(e.target.value)} required />
        </div>
        <div className={byField.role ? 'field invalid' : 'field'}>
          <label htmlFor="member-role">Role</label>
          <select {...problemProps('member-role', byField.role)} value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
            <option value="member">member</option>
            <option value="admin">admin (manages members)</option>
          </select>
        </div>
        <button type="submit" disabled={!user.trim()}>
          Add member
        </button>
      </form>
      {byField.user && (
        <p className="problem" id="member-user-problem">
          User: {byField.user.join('; ')}
        </p>
      )}
      {byField.role && (
        <p className="problem" id="member-role-problem">
          Role: {byField.role.join('; ')}
        </p>
      )}
      <ErrorNotice error={rest} />
    </section>
  );
}
