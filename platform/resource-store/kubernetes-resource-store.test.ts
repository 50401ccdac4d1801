import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  NotAuthenticatedError,
  ResourceExpiredError,
  UnavailableError,
  type PeerResource,
  type ResourceStore,
} from '../../core/index.ts';
import { kubeConfigFor, kubeconfigFor, startKubernetesApiDouble, type KubernetesApiDouble } from './kubernetes-api-double.ts';
import { createKubernetesResourceStore } from './kubernetes-resource-store.ts';
import { CLUSTER_B, peer, runResourceStoreContract, watchOf } from './resource-store.contract.ts';

const NAMESPACE = 'archipel';
const PEERS = `/apis/archipel.io/v1alpha1/namespaces/${NAMESPACE}/peers`;

let contractDouble: KubernetesApiDouble | undefined;
runResourceStoreContract('Kubernetes (through @kubernetes/client-node, against the API double)', {
  async create() {
    contractDouble = await startKubernetesApiDouble({ bookmarkIntervalMs: 100 });
    return createKubernetesResourceStore({ kubeconfig: kubeconfigFor(contractDouble), namespace: NAMESPACE });
  },
  async cleanup() {
    await contractDouble?.close();
  },
});

describe('Kubernetes resource store', () => {
  let double: KubernetesApiDouble;
  let store: ResourceStore;
  beforeEach(async () => {
    double = await startKubernetesApiDouble({ bookmarkIntervalMs: 100, token: 'secret' });
    store = createKubernetesResourceStore({ kubeconfig: kubeconfigFor(double, { token: 'secret' }), namespace: NAMESPACE, watchReconnectDelayMs: 50 });
  });
  afterEach(async () => {
    await double.close();
  });

  it('sends the requests the Kubernetes API expects: paths, merge patches, list parameters', async () => {
    await store.create('Peer', peer('alpha', { tier: 'a' }));
    await store.patch('Peer', 'alpha', { spec: { name: 'x' } });
    await store.patch('Peer', 'alpha', { status: { state: 'discovered' } }, { subresource: 'status' });
    await store.list('Peer', { labelSelector: { tier: 'a' } });
    expect(double.requests.map(({ method, path, contentType }) => ({ method, path, contentType }))).toEqual([
      { method: 'POST', path: PEERS, contentType: 'application/json' },
      { method: 'PATCH', path: `${PEERS}/alpha`, contentType: 'application/merge-patch+json' },
      { method: 'PATCH', path: `${PEERS}/alpha/status`, contentType: 'application/merge-patch+json' },
      { method: 'GET', path: PEERS, contentType: undefined },
    ]);
    expect(double.requests.at(-1)!.query).toEqual({ labelSelector: 'tier=a', limit: '500' });
  });

  it('keeps a watch going when the server ends it, from the last version seen', async () => {
    const watch = watchOf(store, 'Peer');
    try {
      const pending = watch.next();
      await new Promise((resolve) => setTimeout(resolve, 100)); // the watch is open
      const alpha = await store.create('Peer', peer('alpha'));
      expect(await pending).toEqual({ type: 'ADDED', object: alpha });
      double.closeWatches();
      const bravo = await store.create('Peer', peer('bravo'));
      expect(await watch.next()).toEqual({ type: 'ADDED', object: bravo });
      const watches = double.requests.filter((r) => r.query.watch === 'true');
      expect(watches.length).toBeGreaterThanOrEqual(2);
      expect(watches[0]!.query).toMatchObject({ allowWatchBookmarks: 'true' });
      // The reconnection asks for what came after alpha (or a later bookmark), never for everything again.
      expect(BigInt(watches[1]!.query.resourceVersion!)).toBeGreaterThanOrEqual(BigInt(alpha.metadata.resourceVersion!));
    } finally {
      watch.stop();
    }
    expect(await watch.ended()).toBe(true);
  });

  it('reports a watch from a compacted version as expired', async () => {
    const alpha = await store.create('Peer', peer('alpha'));
    await store.create('Peer', peer('bravo'));
    double.compact();
    const iterator = store.watch('Peer', { signal: AbortSignal.timeout(5000), resourceVersion: alpha.metadata.resourceVersion! });
    await expect(iterator[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ResourceExpiredError);
  });

  it('translates the API server’s failures, keeping the original as cause', async () => {
    const unauthenticated = createKubernetesResourceStore({ kubeconfig: kubeconfigFor(double, { token: 'wrong' }), namespace: NAMESPACE });
    const denied = await unauthenticated.get('Peer', 'alpha').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(NotAuthenticatedError);
    expect((denied as Error).cause).toBeInstanceOf(ApiException);

    double.failNext(503);
    const unavailable = await store.list('Peer').catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(UnavailableError);
    expect(unavailable).toMatchObject({ retryable: true, message: 'injected failure 503' });

    await double.close();
    const unreachable = await store.get('Peer', 'alpha').catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(UnavailableError);
  });

  it('reports the API server’s validation causes as issues when only the server can check', async () => {
    await store.create('Peer', peer('alpha'));
    const error = await store.patch('Peer', 'alpha', { spec: { addresses: ['not-a-multiaddr'] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([
      { path: 'spec.addresses[0]', reason: 'FieldValueInvalid', message: `Invalid value: "not-a-multiaddr": spec.addresses[0] in body should match '^/'` },
    ]);
  });

  it('reads a kubeconfig file, and refuses to start without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archipel-kubeconfig-'));
    try {
      const path = join(dir, 'config');
      await writeFile(
        path,
        dump({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'double', cluster: { server: double.url, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'tester', user: { token: 'secret' } }],
          contexts: [{ name: 'double', context: { cluster: 'double', user: 'tester' } }],
          'current-context': 'double',
        }),
      );
      const fromFile = createKubernetesResourceStore({ kubeconfigPath: path, namespace: NAMESPACE });
      await fromFile.create('Peer', peer('alpha'));
      expect((await store.get('Peer', 'alpha')).spec!.clusterId).toBe(CLUSTER_B);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => createKubernetesResourceStore({ namespace: NAMESPACE })).toThrow(InvalidInputError);
    expect(() => createKubernetesResourceStore({ kubeconfigPath: '/nonexistent/kubeconfig', namespace: NAMESPACE })).toThrow(InvalidInputError);
  });
});

describe('Kubernetes API double, on the wire', () => {
  let double: KubernetesApiDouble;
  beforeEach(async () => {
    double = await startKubernetesApiDouble({ bookmarkIntervalMs: 50 });
  });
  afterEach(async () => {
    await double.close();
  });

  const request = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const response = await fetch(`${double.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as WireBody };
  };
  const peerBody = (name: string, labels?: Record<string, string>) => ({ ...peer(name, labels) });

  it('assigns the system fields on create, and answers 409 Conflict to a PUT with a stale version', async () => {
    const created = await request('POST', PEERS, peerBody('alpha'));
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'alpha', namespace: NAMESPACE, generation: 1, uid: expect.any(String), resourceVersion: expect.stringMatching(/^\d+$/) });

    const first = await request('PUT', `${PEERS}/alpha`, { ...created.body, spec: { ...created.body.spec, name: 'first' } });
    expect(first.status).toBe(200);
    expect(first.body.metadata.generation).toBe(2);

    const stale = await request('PUT', `${PEERS}/alpha`, { ...created.body, spec: { ...created.body.spec, name: 'second' } });
    expect(stale).toEqual({
      status: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Operation cannot be fulfilled on peers.archipel.io "alpha": the object has been modified; please apply your changes to the latest version and try again',
        reason: 'Conflict',
        details: { name: 'alpha', group: 'archipel.io', kind: 'peers' },
        code: 409,
      },
    });
    expect((await request('POST', PEERS, peerBody('alpha'))).body).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'peers.archipel.io "alpha" already exists' });
  });

  it('answers 404 NotFound, 422 Invalid with causes, 400 and 500 as the API server does', async () => {
    expect(await request('GET', `${PEERS}/ghost`)).toMatchObject({
      status: 404,
      body: { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'peers.archipel.io "ghost" not found', details: { name: 'ghost', group: 'archipel.io', kind: 'peers' } },
    });
    expect((await request('GET', '/apis/archipel.io/v1alpha1/namespaces/x/widgets')).status).toBe(404);

    const invalid = await request('POST', PEERS, { ...peerBody('alpha'), spec: { name: 'no cluster id' } });
    expect(invalid).toEqual({
      status: 422,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Peer.archipel.io "alpha" is invalid: spec.clusterId: Required value',
        reason: 'Invalid',
        details: { name: 'alpha', group: 'archipel.io', kind: 'Peer', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.clusterId' }] },
        code: 422,
      },
    });

    const { kind: _kind, ...withoutKind } = peerBody('alpha');
    expect(await request('POST', PEERS, withoutKind)).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    const withVersion = peerBody('alpha');
    withVersion.metadata.resourceVersion = '5';
    expect(await request('POST', PEERS, withVersion)).toMatchObject({ status: 500, body: { message: 'resourceVersion should not be set on objects to be created' } });
    const created = await request('POST', PEERS, peerBody('alpha'));
    expect(await request('PUT', `${PEERS}/bravo`, created.body)).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    const { resourceVersion: _rv, ...metadata } = created.body.metadata;
    expect(await request('PUT', `${PEERS}/alpha`, { ...created.body, metadata })).toMatchObject({
      status: 422,
      body: { details: { causes: [{ field: 'metadata.resourceVersion' }] } },
    });
  });

  it('applies JSON patches (the client’s default) and merge patches, refuses strategic merge patches', async () => {
    await request('POST', PEERS, peerBody('alpha'));
    const jsonPatched = await request('PATCH', `${PEERS}/alpha`, [{ op: 'add', path: '/spec/addresses/-', value: '/ip4/10.0.0.9/tcp/4001' }, { op: 'replace', path: '/spec/name', value: 'patched' }], 'application/json-patch+json');
    expect(jsonPatched.body.spec).toMatchObject({ name: 'patched', addresses: ['/ip4/127.0.0.1/tcp/4001', '/ip4/10.0.0.9/tcp/4001'] });
    const failedTest = await request('PATCH', `${PEERS}/alpha`, [{ op: 'test', path: '/spec/name', value: 'other' }], 'application/json-patch+json');
    expect(failedTest.status).toBe(422);
    const merged = await request('PATCH', `${PEERS}/alpha`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    expect(merged.body.metadata.labels).toEqual({ a: 'b' });
    expect((await request('PATCH', `${PEERS}/alpha`, { spec: {} }, 'application/strategic-merge-patch+json')).body).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });

    // The library's default, for the record (STACK.md note 7): a JSON patch.
    const api = kubeConfigFor(double).makeApiClient(CustomObjectsApi);
    const viaClient = await api.patchNamespacedCustomObject({
      group: 'archipel.io', version: 'v1alpha1', namespace: NAMESPACE, plural: 'peers', name: 'alpha',
      body: [{ op: 'replace', path: '/spec/name', value: 'by json patch' }],
    });
    expect(viaClient.spec.name).toBe('by json patch');
    expect(double.requests.at(-1)!.contentType).toBe('application/json-patch+json');
  });

  it('pages a list with continue tokens at one version, expiring them on compaction', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await request('POST', PEERS, peerBody(name));
    const first = await request('GET', `${PEERS}?limit=2`);
    expect(first.body.items!.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(first.body.metadata).toMatchObject({ remainingItemCount: 3, continue: expect.any(String) });
    await request('DELETE', `${PEERS}/c`);
    await request('POST', PEERS, peerBody('bb'));
    const second = await request('GET', `${PEERS}?limit=2&continue=${first.body.metadata.continue}`);
    expect(second.body.items!.map((i) => i.metadata.name)).toEqual(['c', 'd']); // as it was when listing began
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    double.compact();
    expect((await request('GET', `${PEERS}?limit=2&continue=${second.body.metadata.continue}`)).body).toMatchObject({ code: 410, reason: 'Expired' });
  });

  it('serves Nodes read-only: NodeList pages without apiVersion and kind on items, one node, 404, 405', async () => {
    const node = (name: string, labels: Record<string, string> = {}) => ({
      metadata: { name, labels },
      status: { allocatable: { cpu: '4', memory: '16Gi' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    double.setNodes([node('n3'), node('n1', { zone: 'a' }), node('n2', { zone: 'b' })]);
    const first = await request('GET', '/api/v1/nodes?limit=2');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ apiVersion: 'v1', kind: 'NodeList', metadata: { resourceVersion: expect.stringMatching(/^\d+$/), remainingItemCount: 1 } });
    expect(first.body.items!.map((i) => i.metadata.name)).toEqual(['n1', 'n2']);
    expect(first.body.items![0]).not.toHaveProperty('kind');
    expect(first.body.items![0]).not.toHaveProperty('apiVersion');
    expect(first.body.items![0]!.metadata).toMatchObject({ uid: expect.any(String), creationTimestamp: expect.any(String), resourceVersion: expect.any(String) });
    double.setNodes([node('n1', { zone: 'a' })]); // n2 and n3 leave, after the list began
    const second = await request('GET', `/api/v1/nodes?limit=2&continue=${first.body.metadata.continue}`);
    expect(second.body.items!.map((i) => i.metadata.name)).toEqual(['n3']);
    expect((await request('GET', '/api/v1/nodes')).body.items!.map((i) => i.metadata.name)).toEqual(['n1']);
    expect((await request('GET', '/api/v1/nodes?labelSelector=zone%3Db')).body.items).toEqual([]);

    const one = await request('GET', '/api/v1/nodes/n1');
    expect(one.body).toMatchObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } } });
    expect(await request('GET', '/api/v1/nodes/n2')).toMatchObject({
      status: 404,
      body: { kind: 'Status', reason: 'NotFound', code: 404, message: 'nodes "n2" not found', details: { name: 'n2', kind: 'nodes' } },
    });
    expect(await request('POST', '/api/v1/nodes', node('n9'))).toMatchObject({ status: 405, body: { reason: 'MethodNotAllowed' } });

    // Through the real client's typed models.
    const core = kubeConfigFor(double).makeApiClient(CoreV1Api);
    const read = await core.readNode({ name: 'n1' });
    expect(read.status?.allocatable).toEqual({ cpu: '4', memory: '16Gi' });
    const listed = await core.listNode({ labelSelector: 'zone=a', limit: 1 });
    expect(listed.items.map((n) => n.metadata?.name)).toEqual(['n1']);
    expect(listed.metadata?._continue).toBeUndefined();

    // Watched as the real API server streams them: with apiVersion and kind.
    const watched = readWatch(`${double.url}/api/v1/nodes?watch=true&resourceVersion=${one.body.metadata.resourceVersion}`, 2);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the watch is open
    double.setNodes([node('n1', { zone: 'c' }), node('n4')]);
    expect((await watched).map((e) => `${e.type} ${e.object.kind} ${e.object.metadata?.name}`)).toEqual(['MODIFIED Node n1', 'ADDED Node n4']);
  });

  it('streams watch events as JSON lines: replay, selector transitions, bookmarks, 410 once compacted', async () => {
    const created = await request('POST', PEERS, peerBody('alpha', { tier: 'a' }));
    const from = created.body.metadata.resourceVersion as string;
    await request('PATCH', `${PEERS}/alpha`, { spec: { name: 'renamed' } }, 'application/merge-patch+json');
    await request('PATCH', `${PEERS}/alpha`, { metadata: { labels: { tier: 'b' } } }, 'application/merge-patch+json');

    const lines = await readWatch(`${double.url}${PEERS}?watch=true&resourceVersion=${from}&labelSelector=tier%3Da&allowWatchBookmarks=true`, 3);
    expect(lines.map((l) => `${l.type} ${l.object.metadata?.name ?? ''}`)).toEqual(['MODIFIED alpha', 'DELETED alpha', 'BOOKMARK ']);
    expect(lines[2]!.object).toEqual({ apiVersion: 'archipel.io/v1alpha1', kind: 'Peer', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });

    double.compact();
    const [expired] = await readWatch(`${double.url}${PEERS}?watch=true&resourceVersion=${from}`, 1);
    expect(expired).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });
});

/** What the double answers, typed loosely enough to read in assertions. */
type WireBody = PeerResource & { items?: PeerResource[]; metadata: PeerResource['metadata'] & { continue?: string } };
type WireObject = Partial<PeerResource> & Record<string, unknown>;

/** The first `count` events of a watch stream. */
async function readWatch(url: string, count: number): Promise<{ type: string; object: WireObject }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  const response = await fetch(url, { signal: controller.signal });
  const events: { type: string; object: WireObject }[] = [];
  let buffer = '';
  try {
    for await (const chunk of response.body!) {
      buffer += Buffer.from(chunk).toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buffer.slice(0, newline)) as { type: string; object: WireObject });
        buffer = buffer.slice(newline + 1);
      }
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events.slice(0, count);
}
