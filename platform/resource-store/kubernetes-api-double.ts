import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ConflictError, systemClock, type Clock, type Resource } from '../../core/index.ts';
import {
  alreadyExists,
  checkDeletePrecondition,
  checkRequest,
  createObject,
  deletedObject,
  mergePatch,
  notFound,
  timestamp,
  updateObject,
  withCurrentVersion,
} from './api-semantics.ts';
import { loadResourceSchemas, type ResourceDefinition, type ResourceSchemas } from './crd-schemas.ts';
import { JsonPatchError, applyJsonPatch } from './json-patch.ts';
import { HttpError, NODES_PATH, PATH, parseSelector, readJson, requireKind, send, statusBody } from './kubernetes-api-wire.ts';
import type { KubeconfigData } from '../kubernetes/index.ts';

/**
 * Test support: the part of the Kubernetes API server that serves Archipel's custom resources, over HTTP
 * on 127.0.0.1, for testing the Kubernetes adapter through the real client library. It behaves as the API
 * server does for CRDs with a status subresource: one global resourceVersion, system fields assigned,
 * optimistic concurrency (409), Status bodies with the real reasons and codes, objects validated
 * against the CRDs of `manifests/crds/` (422 with causes), merge and JSON patches, paged lists with
 * consistent continue tokens, and watches replayed from a version (410 once compacted) with bookmarks.
 * It also serves core Nodes read-only (`/api/v1/nodes`: get, paged list, watch), which tests set with
 * `setNodes`; as from the real API server, the items of a NodeList carry no apiVersion or kind.
 * Not served: other resources, writes to Nodes (405), set-based label selectors, field selectors,
 * server-side apply, strategic merge patch (415, as for any custom resource), finalizers, dry runs.
 */
export interface KubernetesApiDoubleOptions {
  /** Bearer token every request must carry; without one, requests are not authenticated. */
  token?: string;
  /** How often watches that allow bookmarks get one (default 1 s). */
  bookmarkIntervalMs?: number;
  clock?: Clock;
  schemas?: ResourceSchemas;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
}

/** A core v1 Node as a test gives it: what the kubelet and `kubectl cordon` would have written. */
export interface NodeObject {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[]; [field: string]: unknown };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    [field: string]: unknown;
  };
}

export interface KubernetesApiDouble {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Every request received, in order, to check what the client sent. */
  requests: RecordedRequest[];
  /** Forgets the history up to now, as etcd compaction does: older watches and continue tokens get 410. */
  compact(): void;
  /**
   * Replaces the cluster's Nodes with these, as nodes joining, changing and leaving would: each new or
   * given node gets a new resourceVersion (a uid and creationTimestamp when it is new), the others are
   * deleted. Lists begun before keep their snapshot.
   */
  setNodes(nodes: readonly NodeObject[]): void;
  /** Answers the next request with this status code and a Status body (e.g. 503). */
  failNext(code: number): void;
  /** Ends the open watches from the server's side, as the API server does when they time out. */
  closeWatches(): void;
  close(): Promise<void>;
}

interface Change {
  version: bigint;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  object: Resource;
  previous?: Resource;
}

/** A collection as lists and watches serve it: custom resources of a namespace, or the cluster's Nodes. */
interface Collection {
  /** The keys of its objects start with this. */
  prefix: string;
  apiVersion: string;
  kind: string;
  listKind: string;
  /** How an object appears in a list (built-in types leave out apiVersion and kind there). */
  listItem(object: Resource): unknown;
}

const asStored = (object: Resource): unknown => object;
const customResources = (def: ResourceDefinition, namespace: string): Collection => ({
  prefix: `${def.plural}/${namespace}/`,
  apiVersion: def.apiVersion,
  kind: def.kind,
  listKind: def.listKind,
  listItem: asStored,
});
/** Cluster-scoped core Nodes; no custom resource's plural starts with "/". */
const NODES: Collection = {
  prefix: '/api/v1/nodes/',
  apiVersion: 'v1',
  kind: 'Node',
  listKind: 'NodeList',
  listItem: ({ apiVersion: _apiVersion, kind: _kind, ...rest }) => rest,
};

interface Watcher {
  prefix: string;
  deliver(change: Change): void;
  end(): void;
}

export async function startKubernetesApiDouble(options: KubernetesApiDoubleOptions = {}): Promise<KubernetesApiDouble> {
  const schemas = options.schemas ?? loadResourceSchemas();
  const clock = options.clock ?? systemClock;
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
  const objects = new Map<string, Resource>(); // by `plural/namespace/name`
  const history: Change[] = [];
  let revision = 1000n;
  let compacted = revision;
  const watchers = new Set<Watcher>();
  const requests: RecordedRequest[] = [];
  let failure: number | undefined;

  const key = (def: ResourceDefinition, namespace: string, name: string) => `${def.plural}/${namespace}/${name}`;

  function commit(type: Change['type'], itemKey: string, object: Resource, previous?: Resource): void {
    revision = BigInt(object.metadata.resourceVersion!);
    if (type === 'DELETED') objects.delete(itemKey);
    else objects.set(itemKey, object);
    const change: Change = { version: revision, type, key: itemKey, object, ...(previous ? { previous } : {}) };
    history.push(change);
    for (const watcher of watchers) if (itemKey.startsWith(watcher.prefix)) watcher.deliver(change);
  }

  const nextVersion = () => String(revision + 1n);

  /** The objects as they were at `version`: the current ones with later changes undone. */
  function snapshot(version: bigint): Map<string, Resource> {
    if (version < compacted) throw expired(version);
    const state = new Map(objects);
    for (let i = history.length - 1; i >= 0 && history[i]!.version > version; i--) {
      const change = history[i]!;
      if (change.previous) state.set(change.key, change.previous);
      else state.delete(change.key);
    }
    return state;
  }

  const expired = (version: bigint) => new HttpError(410, `too old resource version: ${version} (${compacted})`);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'] });
    if (failure !== undefined) {
      const code = failure;
      failure = undefined;
      throw new HttpError(code, `injected failure ${code}`);
    }
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) throw new HttpError(401, 'Unauthorized');
    const nodes = NODES_PATH.exec(url.pathname);
    if (nodes) return serveNodes(req, res, url.searchParams, nodes[1] === undefined ? undefined : decodeURIComponent(nodes[1]));
    const match = PATH.exec(url.pathname);
    const def = match ? schemas.forPlural(match[4]!) : undefined;
    if (!match || !def || `${match[1]}/${match[2]}` !== def.apiVersion) throw new HttpError(404, 'the server could not find the requested resource');
    const namespace = decodeURIComponent(match[3]!);
    const name = match[5] === undefined ? undefined : decodeURIComponent(match[5]);
    const status = match[6] !== undefined;
    const method = req.method ?? 'GET';

    if (name === undefined) {
      if (method === 'GET' && isWatch(url.searchParams)) return watch(customResources(def, namespace), url.searchParams, req, res);
      if (method === 'GET') return send(res, 200, list(customResources(def, namespace), url.searchParams));
      if (method === 'POST') return send(res, 201, create(def, namespace, await readJson(req)));
      throw new HttpError(405, `the server does not allow this method on the requested resource`);
    }
    const itemKey = key(def, namespace, name);
    const current = () => objects.get(itemKey) ?? raise(notFound(def, name));
    switch (method) {
      case 'GET':
        return send(res, 200, current());
      case 'PUT':
        return send(res, 200, replace(def, namespace, name, current, await readJson(req), status));
      case 'PATCH':
        return send(res, 200, patch(def, namespace, name, current(), req.headers['content-type'], await readJson(req), status));
      case 'DELETE':
        if (status) break;
        return send(res, 200, remove(def, itemKey, current(), await readJson(req, true)));
    }
    throw new HttpError(405, `the server does not allow this method on the requested resource`);
  }

  /** Nodes are read-only here: the kubelet writes them in a real cluster, `setNodes` in tests. */
  function serveNodes(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, name: string | undefined): void {
    if (req.method !== 'GET') throw new HttpError(405, 'the server does not allow this method on the requested resource');
    if (name === undefined) return isWatch(query) ? watch(NODES, query, req, res) : send(res, 200, list(NODES, query));
    const node = objects.get(`${NODES.prefix}${name}`);
    if (!node) throw new HttpError(404, `nodes ${JSON.stringify(name)} not found`, { name, kind: 'nodes' });
    send(res, 200, node);
  }

  function setNodes(nodes: readonly NodeObject[]): void {
    const next = new Map<string, NodeObject>();
    for (const node of nodes) {
      if (!node.metadata?.name) throw new Error('every node needs metadata.name');
      next.set(`${NODES.prefix}${node.metadata.name}`, node);
    }
    if (next.size !== nodes.length) throw new Error('node names must be unique');
    const gone = [...objects].filter(([itemKey]) => itemKey.startsWith(NODES.prefix) && !next.has(itemKey));
    for (const [itemKey, current] of gone) commit('DELETED', itemKey, deletedObject(current, nextVersion()), current);
    for (const [itemKey, node] of next) {
      const current = objects.get(itemKey);
      const { metadata, ...rest } = structuredClone(node) as NodeObject;
      const stored: Resource = {
        apiVersion: NODES.apiVersion,
        kind: NODES.kind,
        ...rest,
        metadata: {
          ...metadata,
          uid: current?.metadata.uid ?? randomUUID(),
          creationTimestamp: current?.metadata.creationTimestamp ?? timestamp(clock.now()),
          resourceVersion: nextVersion(),
        },
      };
      commit(current ? 'MODIFIED' : 'ADDED', itemKey, stored, current);
    }
  }

  function create(def: ResourceDefinition, namespace: string, body: unknown): Resource {
    const object = requireKind(body);
    if (object.metadata?.resourceVersion) throw new HttpError(500, 'resourceVersion should not be set on objects to be created');
    const checked = checkRequest(def, object, namespace, 'create');
    const created = createObject(schemas, def, checked, { uid: randomUUID(), resourceVersion: nextVersion(), now: clock.now() });
    const itemKey = key(def, namespace, created.metadata.name);
    if (objects.has(itemKey)) throw alreadyExists(def, created.metadata.name);
    commit('ADDED', itemKey, created);
    return created;
  }

  function replace(def: ResourceDefinition, namespace: string, name: string, current: () => Resource, body: unknown, status: boolean): Resource {
    const object = requireKind(body);
    if (object.metadata?.name !== name) {
      throw new HttpError(400, `the name of the object (${String(object.metadata?.name)}) does not match the name on the URL (${name})`);
    }
    const checked = checkRequest(def, object, namespace, status ? 'status' : 'update');
    return write(def, current(), checked, status);
  }

  function patch(def: ResourceDefinition, namespace: string, name: string, current: Resource, contentType: string | undefined, body: unknown, status: boolean): Resource {
    const type = contentType?.split(';')[0]?.trim();
    let patched: Resource;
    if (type === 'application/merge-patch+json') {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'a merge patch must be a JSON object');
      patched = withCurrentVersion(current, mergePatch(current, body) as Resource, body as Partial<Resource>);
    } else if (type === 'application/json-patch+json') {
      try {
        const result = applyJsonPatch(current, body) as Resource;
        patched = withCurrentVersion(current, result, result);
      } catch (error) {
        if (error instanceof JsonPatchError) throw new HttpError(422, error.message);
        throw error;
      }
    } else {
      throw new HttpError(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`);
    }
    if (patched.metadata?.name !== name) throw new HttpError(400, `the name of the object does not match the name on the URL (${name})`);
    return write(def, current, checkRequest(def, patched, namespace, status ? 'status' : 'update'), status);
  }

  function write(def: ResourceDefinition, current: Resource, body: Resource, status: boolean): Resource {
    const next = updateObject(schemas, def, current, body, status ? 'status' : 'update');
    if (!next) return current;
    const stored = { ...next, metadata: { ...next.metadata, resourceVersion: nextVersion() } };
    commit('MODIFIED', key(def, current.metadata.namespace!, current.metadata.name), stored, current);
    return stored;
  }

  function remove(def: ResourceDefinition, itemKey: string, current: Resource, body: unknown): Resource {
    const preconditions = (body as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined)?.preconditions;
    checkDeletePrecondition(def, current, preconditions?.resourceVersion);
    if (preconditions?.uid !== undefined && preconditions.uid !== current.metadata.uid) {
      throw new ConflictError(
        `Operation cannot be fulfilled on ${def.plural}.${def.group} "${current.metadata.name}": Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid}`,
        { details: { reason: 'Conflict', name: current.metadata.name, group: def.group, kind: def.plural } },
      );
    }
    commit('DELETED', itemKey, deletedObject(current, nextVersion()), current);
    return current;
  }

  function list(collection: Collection, query: URLSearchParams) {
    const selector = parseSelector(query.get('labelSelector'));
    const limit = Number(query.get('limit') ?? 0);
    let version = revision;
    let after = '';
    const token = query.get('continue');
    if (token) {
      try {
        const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv: string; start: string };
        version = BigInt(decoded.rv);
        after = decoded.start;
      } catch {
        throw new HttpError(400, 'continue key is not valid');
      }
      if (version < compacted) {
        throw new HttpError(410, 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
    }
    const all = [...snapshot(version)]
      .filter(([itemKey, object]) => itemKey.startsWith(collection.prefix) && object.metadata.name > after && selector(object))
      .map(([, object]) => object)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    const items = limit > 0 ? all.slice(0, limit) : all;
    const metadata: Record<string, unknown> = { resourceVersion: String(version) };
    if (items.length < all.length) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: String(version), start: items.at(-1)!.metadata.name })).toString('base64url');
      metadata.remainingItemCount = all.length - items.length;
    }
    return { apiVersion: collection.apiVersion, kind: collection.listKind, metadata, items: items.map(collection.listItem) };
  }

  function watch(collection: Collection, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const selector = parseSelector(query.get('labelSelector'));
    const from = query.get('resourceVersion');
    if (from && !/^\d+$/.test(from)) throw new HttpError(400, `Invalid value: "${from}": invalid resource version`);
    const { prefix } = collection;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const emit = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const deliver = (change: Change) => {
      const was = change.previous !== undefined && change.type !== 'ADDED' && selector(change.previous);
      const is = change.type !== 'DELETED' && selector(change.object);
      if (change.type === 'DELETED') {
        if (selector(change.object)) emit('DELETED', change.object);
      } else if (is) emit(was ? 'MODIFIED' : 'ADDED', change.object);
      else if (was) emit('DELETED', change.object); // no longer selected
    };
    const timers: NodeJS.Timeout[] = [];
    const watcher: Watcher = { prefix, deliver, end: () => res.end() };
    const stop = () => {
      watchers.delete(watcher);
      for (const timer of timers) clearInterval(timer);
    };
    req.on('close', stop);
    res.on('close', stop);

    if (!from || from === '0') {
      // Without a version: the current state as ADDED events, then the changes.
      [...objects].filter(([itemKey, o]) => itemKey.startsWith(prefix) && selector(o))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .forEach(([, object]) => emit('ADDED', object));
    } else {
      const version = BigInt(from);
      if (version < compacted) {
        emit('ERROR', statusBody(expired(version)));
        res.end();
        return;
      }
      for (const change of history) if (change.version > version && change.key.startsWith(prefix)) deliver(change);
    }
    watchers.add(watcher);
    if (query.get('allowWatchBookmarks') === 'true') {
      timers.push(setInterval(() => emit('BOOKMARK', { apiVersion: collection.apiVersion, kind: collection.kind, metadata: { resourceVersion: String(revision) } }), bookmarkIntervalMs));
    }
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? 0);
    if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.end();
      const status = statusBody(error);
      send(res, status.code, status);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setNodes,
    compact() {
      compacted = revision;
      history.length = 0;
    },
    failNext(code) {
      failure = code;
    },
    closeWatches() {
      for (const watcher of watchers) watcher.end();
      watchers.clear();
    },
    async close() {
      for (const watcher of watchers) watcher.end();
      watchers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const isWatch = (query: URLSearchParams) => ['true', '1'].includes(query.get('watch') ?? '');

function raise(error: Error): never {
  throw error;
}

/** A kubeconfig for the double (plain `http://` needs `skipTLSVerify`). */
export function kubeconfigFor(double: { url: string }, options: { token?: string; namespace?: string } = {}): KubeconfigData {
  return {
    clusters: [{ name: 'double', server: double.url, skipTLSVerify: true }],
    users: [{ name: 'tester', ...(options.token ? { token: options.token } : {}) }],
    contexts: [{ name: 'double', cluster: 'double', user: 'tester', ...(options.namespace ? { namespace: options.namespace } : {}) }],
    currentContext: 'double',
  };
}

/** The same as a client `KubeConfig`, for tests that use the library directly. */
export function kubeConfigFor(double: { url: string }, options: { token?: string } = {}): KubeConfig {
  const kubeConfig = new KubeConfig();
  const { clusters, users, contexts, currentContext } = kubeconfigFor(double, options);
  kubeConfig.loadFromOptions({ clusters: clusters.map((c) => ({ skipTLSVerify: true, ...c })), users, contexts, currentContext });
  return kubeConfig;
}

