import { useEffect } from 'react';
import { api, must } from '../api/client';
import { ErrorNotice, useLoad } from './common';

/** The caller's projects to choose from; picks the first when none is chosen. */
export function ProjectSelect({ value, onChange, id = 'project' }: { value: string; onChange(project: string): void; id?: string }) {
  const projects = useLoad((signal) => must(api.GET('/api/v1/projects', { signal })), []);
  const items = projects.data?.items ?? [];
  useEffect(() => {
    if (!value && items[0]) onChange(items[0].name);
  }, [value, items, onChange]);
  return (
    <div className="field">
      <label htmlFor={id}>Project</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} required>
        {items.length === 0 && <option value="">{projects.loading ? 'loading…' : 'no project: create one first'}</option>}
        {items.map((p) => (
          <option key={p.id} value={p.name}>
            {p.name}
          </option>
        ))}
      </select>
      <ErrorNotice error={projects.error} />
    </div>
  );
}
