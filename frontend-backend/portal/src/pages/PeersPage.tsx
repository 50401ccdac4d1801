import { useEffect, useState, type FormEvent } from 'react';
import { api, must, type Peer } from '../api/client';
import { ErrorNotice, useLoad, when } from '../components/common';
import { ScrollingTable } from '../components/table-pages';

type Action = 'request-peering' | 'approve' | 'refuse' | 'block' | 'unblock';

/** What an operator may do with a peer in each state. */
const ACTIONS: Record<Peer['state'], Action[]> = {
  discovered: ['request-peering', 'block'],
  requested: ['block'],
  'pending-approval': ['approve', 'refuse', 'block'],
  peered: ['block'],
  refused: ['request-peering', 'block'],
  blocked: ['unblock'],
};
const PEER_ACTIONS: Record<Action, (clusterId: string) => Promise<{ data?: unknown; error?: unknown; response: Response }>> = {
  'request-peering': (clusterId) => api.POST('/api/v1/discovery/peers/{clusterId}/request-peering', { params: { path: { clusterId } } }),
  approve: (clusterId) => api.POST('/api/v1/discovery/peers/{clusterId}/approve', { params: { path: { clusterId } } }),
  refuse: (clusterId) => api.POST('/api/v1/discovery/peers/{clusterId}/refuse', { params: { path: { clusterId } } }),
  block: (clusterId) => api.POST('/api/v1/discovery/peers/{clusterId}/block', { params: { path: { clusterId } } }),
  unblock: (clusterId) => api.POST('/api/v1/discovery/peers/{clusterId}/unblock', { params: { path: { clusterId } } }),
};
const LABEL: Record<Action, string> = { 'request-peering': 'Request peering', approve: 'Approve', refuse: 'Refuse', block: 'Block', unblock: 'Unblock' };

/** The clusters this one knows: their state, reachability, latency; peering by consent, blocking, dialing. */
export function PeersPage() {
  const peers = useLoad((signal) => must(api.GET('/api/v1/discovery/peers', { signal })), []);
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [address, setAddress] = useState('');
  const [dialError, setDialError] = useState<unknown>();
  const [busy, setBusy] = useState('');
  const { reload } = peers;
  // Peers come and go by themselves: refreshed every 3 s.
  useEffect(() => {
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [reload]);
  const act = async (peer: Peer, action: Action) => {
    setBusy(`${peer.clusterId}:${action}`);
    setErrors((e) => ({ ...e, [peer.clusterId]: undefined }));
    try {
      await must(PEER_ACTIONS[action](peer.clusterId));
      reload();
    } catch (err) {
      setErrors((e) => ({ ...e, [peer.clusterId]: err }));
    } finally {
      setBusy('');
    }
  };
  const dial = async (e: FormEvent) => {
    e.preventDefault();
    setDialError(undefined);
    try {
      await must(api.POST('/api/v1/discovery/peers', { body: { address: address.trim() } }));
      setAddress('');
      reload();
    } catch (err) {
      setDialError(err);
    }
  };
  const items = peers.data?.items ?? [];
  return (
    <section>
      <h1>Peers</h1>
      <form className="filters" onSubmit={dial}>
        <label htmlFor="dial-address">Connect to an address</label>
        <input id="dial-address" value={address} placeholder="/ip4/10.0.0.5/tcp/4001/p2p/12D3KooW…" onChange={(e) => setAddress(e.target.value)} aria-describedby={dialError ? 'dial-error' : undefined} />
        <button type="submit" disabled={!address.trim()}>
          Connect
        </button>
      </form>
      <div id="dial-error">
        <ErrorNotice error={dialError} />
      </div>
      <ErrorNotice error={peers.error} />
      {peers.data && items.length === 0 && <p>No other cluster seen yet. Nodes with the same swarm key find each other through their bootstrap addresses.</p>}
      {items.length > 0 && (
        <ScrollingTable label="Peers">
          <table>
            <thead>
              <tr>
                <th scope="col">Cluster</th>
                <th scope="col">State</th>
                <th scope="col">Reachable</th>
                <th scope="col">Latency</th>
                <th scope="col">Last seen</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((peer) => (
                <tr key={peer.clusterId} data-cluster={peer.clusterId}>
                  <td>
                    {peer.name ?? 'unnamed'}
                    <br />
                    <code title={peer.clusterId}>…{peer.clusterId.slice(-12)}</code>
                  </td>
                  <td>
                    <span className={`state state-${peer.state}`} data-state={peer.state}>
                      {peer.state}
                    </span>
                  </td>
                  <td>{peer.reachable ? 'yes' : peer.connected ? 'connected' : 'no'}</td>
                  <td>{peer.latencyMs !== undefined ? `${peer.latencyMs} ms` : '—'}</td>
                  <td>{when(peer.lastSeen)}</td>
                  <td>
                    <div className="actions">
                      {ACTIONS[peer.state].map((action) => (
                        <button key={action} type="button" disabled={busy !== ''} onClick={() => void act(peer, action)} aria-label={`${LABEL[action]} ${peer.name ?? peer.clusterId}`}>
                          {LABEL[action]}
                        </button>
                      ))}
                    </div>
                    <ErrorNotice error={errors[peer.clusterId]} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollingTable>
      )}
    </section>
  );
}
