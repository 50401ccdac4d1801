import { api, must, type Schemas } from '../api/client';
import { ErrorNotice, useLoad } from './common';

export type OutputsTarget = Schemas['NewRun']['outputs'];

/**
 * Where a run's output files go besides the node: nowhere else, or a storage catalog entry the user may
 * see (this cluster's, or a peered cluster's), under a prefix.
 */
export function OutputsChoice({ value, onChange }: { value: OutputsTarget; onChange(value: OutputsTarget): void }) {
  const entries = useLoad((signal) => must(api.GET('/api/v1/catalog/search', { params: { query: { kind: 'storage', scope: 'federation', limit: 100 } }, signal })), []);
  const identity = useLoad((signal) => must(api.GET('/api/v1/discovery/identity', { signal })), []);
  const here = identity.data?.clusterId;
  const options = (entries.data?.items ?? []).map((e) => {
    const cluster = e.origin ?? e.ownerCluster;
    return { key: `${cluster}/${e.id}`, entry: e.id, cluster: cluster === here ? undefined : cluster, label: `${e.name}${cluster === here ? '' : ` (on ${cluster.slice(-8)})`}` };
  });
  const selected = value ? `${value.cluster ?? here}/${value.entry}` : '';
  return (
    <fieldset>
      <legend>Outputs</legend>
      <div className="field">
        <label htmlFor="outputs-entry">Also write the output files to</label>
        <select
          id="outputs-entry"
          value={selected}
          onChange={(e) => {
            const chosen = options.find((o) => o.key === e.target.value);
            onChange(chosen ? { entry: chosen.entry, ...(chosen.cluster ? { cluster: chosen.cluster } : {}), ...(value?.prefix ? { prefix: value.prefix } : {}) } : undefined);
          }}
        >
          <option value="">only this node (download them from the run)</option>
          {options.map((o) => (
            <option key={o.key} value={o.key}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      {value && (
        <div className="field">
          <label htmlFor="outputs-prefix">Prefix in the storage (optional)</label>
          <input id="outputs-prefix" value={value.prefix ?? ''} onChange={(e) => onChange({ ...value, ...(e.target.value ? { prefix: e.target.value } : { prefix: undefined }) })} />
        </div>
      )}
      <ErrorNotice error={entries.error} />
    </fieldset>
  );
}
