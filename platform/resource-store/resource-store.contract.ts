import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  RESOURCE_API_VERSION,
  type PeerResource,
  type ResourceKind,
  type ResourceKinds,
  type ResourceStore,
  type ResourceWatchEvent,
  type SwarmResource,
} from '../../core/index.ts';

export interface ResourceStoreFactory {
  /** An empty store for one test. */
  create(): Promise<ResourceStore>;
  /** Called after each test. */
  cleanup?(): Promise<void>;
}

export const CLUSTER_A = '12D3KooWLqUkbDUBh5aR3aXdXj4x3VFNTqXgGRKmgoHzS8Ybgpdk';
export const CLUSTER_B = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp';
export const FINGERPRINT = `sha256:${'0123456789abcdef'.repeat(4)}`;

export function peer(name: string, labels?: Record<string, string>): PeerResource {
  return {
    apiVersion: RESOURCE_API_VERSION,
    kind: 'Peer',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { clusterId: CLUSTER_B, name: `cluster ${name}`, addresses: ['/ip4/127.0.0.1/tcp/4001'] },
  };
}

const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** The behaviour every resource-store adapter must show. Each adapter's test file calls this. */
export function runResourceStoreContract(name: string, factory: ResourceStoreFactory): void {
  describe(`resource store contract: ${name}`, () => {
    let store: ResourceStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await factory.cleanup?.();
    });

    const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

    describe('create and get', () => {
      it('assigns the system fields and returns what get returns', async () => {
        const created = await store.create('Peer', peer('alpha', { tier: 'a' }));
        expect(created).toMatchObject({
          apiVersion: 'archipel.io/v1alpha1',
          kind: 'Peer',
          metadata: { name: 'alpha', labels: { tier: 'a' }, generation: 1 },
          spec: { clusterId: CLUSTER_B, addresses: ['/ip4/127.0.0.1/tcp/4001'] },
        });
        expect(created.metadata.namespace).toEqual(expect.any(String));
        expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
        expect(created.metadata.creationTimestamp).toMatch(RFC3339_SECONDS);
        expect(await store.get('Peer', 'alpha')).toEqual(created);
      });

      it('fills in apiVersion and kind, drops status and unknown fields, applies the CRD defaults', async () => {
        const swarm = {
          metadata: { name: 'main' },
          spec: { keyFingerprint: FINGERPRINT, bootstrap: ['/dns4/boot.example/tcp/4001'], surprise: true },
          status: { connectedPeers: 3 },
        } as unknown as SwarmResource;
        const created = await store.create('Swarm', swarm);
        expect(created.apiVersion).toBe('archipel.io/v1alpha1');
        expect(created.kind).toBe('Swarm');
        expect(created.spec).toEqual({ keyFingerprint: FINGERPRINT, bootstrap: ['/dns4/boot.example/tcp/4001'], peeringPolicy: { mode: 'manual' } });
        expect(created.status).toBeUndefined();
      });

      it('refuses a second object of the same kind and name, but not of another kind', async () => {
        await store.create('Peer', peer('alpha'));
        const error = await failure(store.create('Peer', peer('alpha')));
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as Error).message).toMatch(/already exists/);
        await store.create('Identity', identity('alpha'));
      });

      it('answers not found for a missing object', async () => {
        const error = await failure(store.get('Peer', 'nobody'));
        expect(error).toBeInstanceOf(NotFoundError);
        expect((error as Error).message).toBe('peers.archipel.io "nobody" not found');
      });

      it('refuses a resourceVersion on create and another namespace', async () => {
        const withVersion = peer('alpha');
        withVersion.metadata.resourceVersion = '7';
        expect(await failure(store.create('Peer', withVersion))).toBeInstanceOf(InvalidInputError);
        const elsewhere = peer('alpha');
        elsewhere.metadata.namespace = 'somewhere-else';
        expect(await failure(store.create('Peer', elsewhere))).toBeInstanceOf(InvalidInputError);
        expect((await store.list('Peer')).items).toEqual([]);
      });
    });

    describe('validation against the CRD schemas', () => {
      it('rejects a missing required field, naming it, and stores nothing', async () => {
        const invalid = peer('alpha');
        delete (invalid.spec as Partial<PeerResource['spec']>)!.clusterId;
        const error = await failure(store.create('Peer', invalid));
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues).toContainEqual(expect.objectContaining({ path: 'spec.clusterId', message: 'Required value' }));
        expect((error as Error).message).toBe('Peer.archipel.io "alpha" is invalid: spec.clusterId: Required value');
        expect((await store.list('Peer')).items).toEqual([]);
      });

      it('reports every problem at once, with the field paths the API server uses', async () => {
        const invalid = {
          metadata: { name: 'local' },
          spec: { clusterId: 'not base58 0OIl', name: 'x', sequence: -1, expiresAt: 'tomorrow', signature: 'c2ln', capabilities: ['ok', 7] },
        } as unknown as ResourceKinds['Identity'];
        const error = (await failure(store.create('Identity', invalid))) as InvalidInputError;
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(error.issues.map((issue) => issue.path).sort()).toEqual(
          ['spec.capabilities[1]', 'spec.clusterId', 'spec.expiresAt', 'spec.sequence'].sort(),
        );
      });

      it('rejects an invalid name or label', async () => {
        const badName = await failure(store.create('Peer', peer('Not_A_DNS_Name')));
        expect((badName as InvalidInputError).issues).toContainEqual(expect.objectContaining({ path: 'metadata.name' }));
        const badLabel = await failure(store.create('Peer', peer('alpha', { 'bad key': 'x' })));
        expect((badLabel as InvalidInputError).issues).toContainEqual(expect.objectContaining({ path: 'metadata.labels' }));
      });

      it('rejects an invalid status and keeps the stored one', async () => {
        const created = await store.create('Peer', peer('alpha'));
        const ok = await store.updateStatus('Peer', { ...created, status: { state: 'discovered', reachable: true } });
        const error = await failure(
          store.updateStatus('Peer', { ...ok, status: { state: 'friends' } } as unknown as PeerResource),
        );
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues).toEqual([
          expect.objectContaining({ path: 'status.state', message: expect.stringMatching(/^Unsupported value: "friends": supported values: "discovered"/) }),
        ]);
        expect(await store.get('Peer', 'alpha')).toEqual(ok);
      });
    });

    describe('list', () => {
      it('lists one kind by name, filtered by labels', async () => {
        await store.create('Peer', peer('charlie', { tier: 'a', zone: 'x' }));
        await store.create('Peer', peer('alpha', { tier: 'a' }));
        await store.create('Peer', peer('bravo', { tier: 'b' }));
        await store.create('Peer', peer('delta'));
        await store.create('Identity', identity('alpha'));
        const names = async (labelSelector?: Record<string, string>) =>
          (await store.list('Peer', { labelSelector })).items.map((item) => item.metadata.name);
        expect(await names()).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
        expect(await names({ tier: 'a' })).toEqual(['alpha', 'charlie']);
        expect(await names({ tier: 'a', zone: 'x' })).toEqual(['charlie']);
        expect(await names({ tier: 'c' })).toEqual([]);
        expect((await store.list('Swarm')).items).toEqual([]);
      });

      it('gives the version it listed at, which grows with every write', async () => {
        const before = BigInt((await store.list('Peer')).resourceVersion);
        const created = await store.create('Peer', peer('alpha'));
        const after = await store.list('Peer');
        expect(BigInt(after.resourceVersion)).toBeGreaterThan(before);
        expect(BigInt(after.resourceVersion)).toBeGreaterThanOrEqual(BigInt(created.metadata.resourceVersion!));
        expect(after.items).toEqual([created]);
      });

      it('rejects an invalid label selector', async () => {
        expect(await failure(store.list('Peer', { labelSelector: { 'no spaces': 'a' } }))).toBeInstanceOf(InvalidInputError);
      });
    });

    describe('update', () => {
      it('replaces labels and spec at the current version, with a new version and generation', async () => {
        const created = await store.create('Peer', peer('alpha', { tier: 'a' }));
        const updated = await store.update('Peer', {
          ...created,
          metadata: { ...created.metadata, labels: { tier: 'b' } },
          spec: { ...created.spec!, addresses: ['/ip4/10.0.0.2/tcp/4001'] },
        });
        expect(BigInt(updated.metadata.resourceVersion!)).toBeGreaterThan(BigInt(created.metadata.resourceVersion!));
        expect(updated.metadata).toMatchObject({ labels: { tier: 'b' }, generation: 2, uid: created.metadata.uid, creationTimestamp: created.metadata.creationTimestamp });
        expect(updated.spec!.addresses).toEqual(['/ip4/10.0.0.2/tcp/4001']);
        expect(await store.get('Peer', 'alpha')).toEqual(updated);

        const relabelled = await store.update('Peer', { ...updated, metadata: { ...updated.metadata, labels: { tier: 'c' } } });
        expect(relabelled.metadata.generation).toBe(2); // only spec changes count
      });

      it('refuses a stale resourceVersion and keeps the newer object', async () => {
        const created = await store.create('Peer', peer('alpha'));
        const first = await store.update('Peer', { ...created, spec: { ...created.spec!, name: 'first' } });
        const error = await failure(store.update('Peer', { ...created, spec: { ...created.spec!, name: 'second' } }));
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as Error).message).toMatch(/the object has been modified/);
        expect(await store.get('Peer', 'alpha')).toEqual(first);
      });

      it('requires a resourceVersion, and the object to exist', async () => {
        const created = await store.create('Peer', peer('alpha'));
        const { resourceVersion: _dropped, ...metadata } = created.metadata;
        const error = await failure(store.update('Peer', { ...created, metadata }));
        expect((error as InvalidInputError).issues).toContainEqual(expect.objectContaining({ path: 'metadata.resourceVersion' }));
        expect(await failure(store.update('Peer', { ...created, metadata: { ...created.metadata, name: 'ghost' } }))).toBeInstanceOf(NotFoundError);
      });

      it('does not count an update that changes nothing as a write', async () => {
        const created = await store.create('Peer', peer('alpha'));
        expect(await store.update('Peer', structuredClone(created))).toEqual(created);
      });

      it('leaves the status to updateStatus, which changes nothing else', async () => {
        const created = await store.create('Peer', peer('alpha'));
        const withStatus = await store.updateStatus('Peer', {
          ...created,
          spec: { ...created.spec!, name: 'ignored' },
          status: { state: 'peered', reachable: true, latencyMs: 12, lastSeen: '2026-11-05T10:00:00Z' },
        });
        expect(withStatus.spec).toEqual(created.spec);
        expect(withStatus.metadata.generation).toBe(1);
        expect(withStatus.status).toEqual({ state: 'peered', reachable: true, latencyMs: 12, lastSeen: '2026-11-05T10:00:00Z' });

        const updated = await store.update('Peer', { ...withStatus, spec: { ...withStatus.spec!, name: 'renamed' }, status: { state: 'blocked' } });
        expect(updated.status).toEqual(withStatus.status);
        expect(updated.spec!.name).toBe('renamed');

        const stale = await failure(store.updateStatus('Peer', { ...withStatus, status: { state: 'refused' } }));
        expect(stale).toBeInstanceOf(ConflictError);
      });
    });

    describe('patch', () => {
      it('merges a JSON merge patch into the object, null removing a field', async () => {
        await store.create('Peer', peer('alpha', { tier: 'a', zone: 'x' }));
        const patched = await store.patch('Peer', 'alpha', {
          metadata: { labels: { zone: null, team: 'ops' } },
          spec: { name: null, addresses: ['/ip4/10.0.0.3/tcp/4001'] },
          status: { state: 'blocked' },
        });
        expect(patched.metadata.labels).toEqual({ tier: 'a', team: 'ops' });
        expect(patched.spec).toEqual({ clusterId: CLUSTER_B, addresses: ['/ip4/10.0.0.3/tcp/4001'] });
        expect(patched.status).toBeUndefined(); // the status belongs to the status subresource
        expect(patched.metadata.generation).toBe(2);
        expect(await store.get('Peer', 'alpha')).toEqual(patched);
      });

      it('patches the status through the status subresource only', async () => {
        const created = await store.create('Peer', peer('alpha'));
        const patched = await store.patch('Peer', 'alpha', { spec: { name: 'ignored' }, status: { state: 'requested', reachable: false } }, { subresource: 'status' });
        expect(patched.status).toEqual({ state: 'requested', reachable: false });
        expect(patched.spec).toEqual(created.spec);
        const again = await store.patch('Peer', 'alpha', { status: { reachable: true } }, { subresource: 'status' });
        expect(again.status).toEqual({ state: 'requested', reachable: true });
      });

      it('checks a resourceVersion given in the patch, validates the result, and needs the object', async () => {
        const created = await store.create('Peer', peer('alpha'));
        await store.patch('Peer', 'alpha', { spec: { name: 'one' } });
        const stale = await failure(store.patch('Peer', 'alpha', { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { name: 'two' } }));
        expect(stale).toBeInstanceOf(ConflictError);
        const invalid = await failure(store.patch('Peer', 'alpha', { spec: { clusterId: null } }));
        expect((invalid as InvalidInputError).issues).toContainEqual(expect.objectContaining({ path: 'spec.clusterId' }));
        const badStatus = await failure(store.patch('Peer', 'alpha', { status: { state: 'friends' } }, { subresource: 'status' }));
        expect(badStatus).toBeInstanceOf(InvalidInputError);
        expect((await store.get('Peer', 'alpha')).spec!.name).toBe('one');
        expect(await failure(store.patch('Peer', 'ghost', { spec: { name: 'x' } }))).toBeInstanceOf(NotFoundError);
      });
    });

    describe('delete', () => {
      it('removes the object', async () => {
        await store.create('Peer', peer('alpha'));
        await store.delete('Peer', 'alpha');
        expect(await failure(store.get('Peer', 'alpha'))).toBeInstanceOf(NotFoundError);
        expect(await failure(store.delete('Peer', 'alpha'))).toBeInstanceOf(NotFoundError);
        await store.create('Peer', peer('alpha')); // the name is free again
      });

      it('deletes only at the given resourceVersion, when one is given', async () => {
        const created = await store.create('Peer', peer('alpha'));
        const updated = await store.patch('Peer', 'alpha', { spec: { name: 'newer' } });
        expect(await failure(store.delete('Peer', 'alpha', { resourceVersion: created.metadata.resourceVersion! }))).toBeInstanceOf(ConflictError);
        await store.delete('Peer', 'alpha', { resourceVersion: updated.metadata.resourceVersion! });
        expect((await store.list('Peer')).items).toEqual([]);
      });
    });

    describe('watch', () => {
      it('sends the existing objects, then every change in order, and ends on abort', async () => {
        const alpha = await store.create('Peer', peer('alpha'));
        await store.create('Swarm', { metadata: { name: 'main' }, spec: { keyFingerprint: FINGERPRINT } } as SwarmResource);
        const watch = watchOf(store, 'Peer');
        try {
          expect(await watch.next()).toEqual({ type: 'ADDED', object: alpha });

          const modified = await store.patch('Peer', 'alpha', { spec: { name: 'renamed' } });
          const bravo = await store.create('Peer', peer('bravo'));
          await store.delete('Peer', 'alpha');
          await store.create('Identity', identity('unrelated'));
          const withStatus = await store.patch('Peer', 'bravo', { status: { state: 'discovered' } }, { subresource: 'status' });

          expect(await watch.next()).toEqual({ type: 'MODIFIED', object: modified });
          expect(await watch.next()).toEqual({ type: 'ADDED', object: bravo });
          const deleted = await watch.next();
          expect(deleted).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'alpha', uid: alpha.metadata.uid }, spec: modified.spec } });
          expect(BigInt(deleted.object.metadata.resourceVersion!)).toBeGreaterThan(BigInt(bravo.metadata.resourceVersion!));
          expect(await watch.next()).toEqual({ type: 'MODIFIED', object: withStatus });
        } finally {
          watch.stop();
        }
        expect(await watch.ended()).toBe(true);
      });

      it('resumes from a resourceVersion without missing or repeating anything', async () => {
        await store.create('Peer', peer('alpha'));
        const { resourceVersion } = await store.list('Peer');
        const bravo = await store.create('Peer', peer('bravo'));
        const alpha = await store.patch('Peer', 'alpha', { metadata: { labels: { seen: 'yes' } } });

        const watch = watchOf(store, 'Peer', resourceVersion);
        try {
          expect(await watch.next()).toEqual({ type: 'ADDED', object: bravo });
          expect(await watch.next()).toEqual({ type: 'MODIFIED', object: alpha });
        } finally {
          watch.stop();
        }
        expect(await watch.ended()).toBe(true);

        const later = watchOf(store, 'Peer', bravo.metadata.resourceVersion);
        try {
          expect(await later.next()).toEqual({ type: 'MODIFIED', object: alpha });
          const charlie = await store.create('Peer', peer('charlie'));
          expect(await later.next()).toEqual({ type: 'ADDED', object: charlie });
        } finally {
          later.stop();
        }
      });

      it('ends at once when aborted before any event', async () => {
        const watch = watchOf(store, 'Peer');
        const pending = watch.next().then(
          () => 'event',
          (error: unknown) => error,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        watch.stop();
        expect(await watch.ended()).toBe(true);
        expect(await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve('pending'), 2000))])).not.toBe('event');
      });
    });
  });
}

export function identity(name: string): ResourceKinds['Identity'] {
  return {
    apiVersion: RESOURCE_API_VERSION,
    kind: 'Identity',
    metadata: { name },
    spec: {
      clusterId: CLUSTER_A,
      name: 'Cluster A',
      description: 'the first cluster',
      apiEndpoint: 'https://a.example/api/v1',
      capabilities: ['catalog', 'compute'],
      sequence: 1,
      expiresAt: '2027-01-01T00:00:00Z',
      signature: 'c2lnbmF0dXJl',
    },
  };
}

interface WatchProbe<K extends ResourceKind> {
  /** The next event, or a failure after a few seconds. */
  next(): Promise<ResourceWatchEvent<ResourceKinds[K]>>;
  stop(): void;
  /** Whether the iteration finished (within a few seconds) once stopped. */
  ended(): Promise<boolean>;
}

export function watchOf<K extends ResourceKind>(store: ResourceStore, kind: K, resourceVersion?: string): WatchProbe<K> {
  const controller = new AbortController();
  const iterator = store.watch(kind, { signal: controller.signal, ...(resourceVersion ? { resourceVersion } : {}) })[Symbol.asyncIterator]();
  let last: Promise<IteratorResult<ResourceWatchEvent<ResourceKinds[K]>>> = Promise.resolve({ done: false, value: undefined as never });
  const within = <T>(promise: Promise<T>, what: string) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within 5 s`)), 5000))]);
  return {
    async next() {
      last = iterator.next();
      const result = await within(last, 'watch event');
      if (result.done) throw new Error('the watch ended');
      return result.value;
    },
    stop: () => controller.abort(),
    async ended() {
      // A pending next() settles on abort; otherwise ask for one more.
      const settled = await within(last.then(() => iterator.next()), 'end of the watch').catch(() => ({ done: false }));
      return settled.done === true;
    },
  };
}
