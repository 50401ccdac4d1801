import { NotFoundError, RESOURCE_API_VERSION, type ResourceStore, type SwarmResource, type SwarmSpec } from '../core/index.ts';

/** The Swarm object's name: a node belongs to one swarm. */
export const SWARM_OBJECT_NAME = 'default';

/** The `Swarm` object: the swarm this node belongs to, and how many peers it is connected to. */
export interface SwarmObject {
  /** Creates the object, or replaces its spec (at each start). */
  upsert(spec: SwarmSpec): Promise<void>;
  /** Writes the number of connected peers when it has changed since the last write. */
  recordConnectedPeers(count: number): Promise<void>;
}

export function createSwarmObject(store: ResourceStore): SwarmObject {
  let lastConnectedCount = -1;
  return {
    async upsert(spec) {
      try {
        const existing = await store.get('Swarm', SWARM_OBJECT_NAME);
        await store.update('Swarm', { ...existing, spec });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        const swarm: SwarmResource = { apiVersion: RESOURCE_API_VERSION, kind: 'Swarm', metadata: { name: SWARM_OBJECT_NAME }, spec };
        await store.create('Swarm', swarm);
      }
      lastConnectedCount = -1;
    },
    async recordConnectedPeers(count) {
      if (count !== lastConnectedCount) {
        await store.patch('Swarm', SWARM_OBJECT_NAME, { status: { connectedPeers: count } }, { subresource: 'status' });
        lastConnectedCount = count;
      }
    },
  };
}
