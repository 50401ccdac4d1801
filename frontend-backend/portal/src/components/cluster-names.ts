import { api, must } from '../api/client';
import { useLoad } from './common';

/** Cluster id → a name to show: this cluster's and its peers' names. */
export function useClusterNames(): (id: string) => string {
  const identity = useLoad((signal) => must(api.GET('/api/v1/discovery/identity', { signal })), []);
  const peers = useLoad((signal) => must(api.GET('/api/v1/discovery/peers', { signal })), []);
  return (id: string) => {
    if (identity.data?.clusterId === id) return `${identity.data.name} (here)`;
    const peer = peers.data?.items.find((p) => p.clusterId === id);
    return peer?.name ?? `…${id.slice(-8)}`;
  };
}
