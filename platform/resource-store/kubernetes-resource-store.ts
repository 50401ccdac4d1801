import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  Observable,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import {
  ConflictError,
  InternalError,
  InvalidInputError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  PayloadTooLargeError,
  ResourceExpiredError,
  UnavailableError,
  isArchipelError,
  type Resource,
  type ResourceDeleteOptions,
  type ResourceKind,
  type ResourceList,
  type ResourceListOptions,
  type ResourceMetadata,
  type ResourcePatchOptions,
  type ResourceStore,
  type ResourceStoreOptions,
  type ResourceWatchEvent,
  type ResourceWatchOptions,
} from '../../core/index.ts';
import { checkRequest, conformOrThrow, type Operation } from './api-semantics.ts';
import { labelSelectorIssues, loadResourceSchemas, type ResourceDefinition, type ResourceSchemas } from './crd-schemas.ts';

/** A kubeconfig as plain data (what `KubeConfig.loadFromOptions` takes), for configuration files and tests. */
export interface KubeconfigData {
  clusters: { name: string; server: string; skipTLSVerify?: boolean; caData?: string; tlsServerName?: string }[];
  users: { name: string; token?: string; certData?: string; keyData?: string }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext: string;
}

export interface KubernetesResourceStoreOptions {
  /** The namespace holding this node's objects. */
  namespace: string;
  /** One of: a kubeconfig file, a kubeconfig as data, or the pod's service account. */
  kubeconfigPath?: string;
  kubeconfig?: KubeconfigData;
  inCluster?: boolean;
  /** Pause before reconnecting a watch that the server ended without sending anything. */
  watchReconnectDelayMs?: number;
  schemas?: ResourceSchemas;
}

const PAGE_SIZE = 500;

/**
 * The resource store on Kubernetes custom resources (`manifests/crds/`), through `CustomObjectsApi` and
 * `Watch` of @kubernetes/client-node. Objects are checked against the CRD schemas before they are sent,
 * so that both stores reject the same objects with the same issues; the API server checks them again.
 * A watch resumes by itself from its last version (bookmarks keep that fresh) when the server ends it.
 */
export function createKubernetesResourceStore(options: KubernetesResourceStoreOptions): ResourceStore {
  const kubeConfig = loadKubeConfig(options);
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const watcher = new Watch(kubeConfig);
  const { namespace } = options;
  const reconnectDelayMs = options.watchReconnectDelayMs ?? 1000;
  let schemas = options.schemas;
  const definition = (kind: string): ResourceDefinition => (schemas ??= loadResourceSchemas()).definition(kind);
  const target = (def: ResourceDefinition) => ({ group: def.group, version: def.version, namespace, plural: def.plural });

  /** Checks the request as the embedded store would, before the API server does. */
  function prepare(kind: ResourceKind, object: Resource, operation: Operation): { def: ResourceDefinition; body: Resource } {
    const def = definition(kind);
    const body = checkRequest(def, object, namespace, operation);
    if (operation === 'status') conformOrThrow(schemas!, def, body, 'status');
    else {
      const { status: _ignored, ...withoutStatus } = body;
      conformOrThrow(schemas!, def, withoutStatus);
    }
    return { def, body };
  }

  const store = {
    async create(kind: ResourceKind, object: Resource, opts?: ResourceStoreOptions) {
      const { def, body } = prepare(kind, object, 'create');
      return normalize(await call(opts?.signal, (o) => api.createNamespacedCustomObject({ ...target(def), body }, o)));
    },

    async get(kind: ResourceKind, name: string, opts?: ResourceStoreOptions) {
      const def = definition(kind);
      return normalize(await call(opts?.signal, (o) => api.getNamespacedCustomObject({ ...target(def), name }, o)));
    },

    async list(kind: ResourceKind, opts?: ResourceListOptions): Promise<ResourceList<Resource>> {
      const def = definition(kind);
      const issues = labelSelectorIssues(opts?.labelSelector ?? {});
      if (issues.length) throw new InvalidInputError(`invalid label selector: ${issues[0]!.message}`, issues);
      const labelSelector = Object.entries(opts?.labelSelector ?? {}).map(([key, value]) => `${key}=${value}`).join(',') || undefined;
      // Pages of one list share its version; when a continue token expires, list again from the start.
      for (let attempt = 1; ; attempt++) {
        try {
          const items: Resource[] = [];
          let resourceVersion = '';
          let token: string | undefined;
          do {
            const page = (await call(opts?.signal, (o) =>
              api.listNamespacedCustomObject({ ...target(def), labelSelector, limit: PAGE_SIZE, _continue: token }, o),
            )) as { items?: unknown[]; metadata?: { resourceVersion?: string; continue?: string } };
            items.push(...(page.items ?? []).map(normalize));
            resourceVersion ||= page.metadata?.resourceVersion ?? '';
            token = page.metadata?.continue || undefined;
          } while (token);
          return { items, resourceVersion };
        } catch (error) {
          if (!(error instanceof ResourceExpiredError) || attempt === 3) throw error;
        }
      }
    },

    async update(kind: ResourceKind, object: Resource, opts?: ResourceStoreOptions) {
      const { def, body } = prepare(kind, object, 'update');
      return normalize(await call(opts?.signal, (o) => api.replaceNamespacedCustomObject({ ...target(def), name: body.metadata.name, body }, o)));
    },

    async updateStatus(kind: ResourceKind, object: Resource, opts?: ResourceStoreOptions) {
      const { def, body } = prepare(kind, object, 'status');
      return normalize(await call(opts?.signal, (o) => api.replaceNamespacedCustomObjectStatus({ ...target(def), name: body.metadata.name, body }, o)));
    },

    async patch(kind: ResourceKind, name: string, mergePatch: Record<string, unknown>, opts?: ResourcePatchOptions) {
      const def = definition(kind);
      const request = { ...target(def), name, body: mergePatch };
      // Without this content type the client would send a JSON patch.
      const patched = await call(
        opts?.signal,
        (o) => (opts?.subresource === 'status' ? api.patchNamespacedCustomObjectStatus(request, o) : api.patchNamespacedCustomObject(request, o)),
        PatchStrategy.MergePatch,
      );
      return normalize(patched);
    },

    async delete(kind: ResourceKind, name: string, opts?: ResourceDeleteOptions) {
      const def = definition(kind);
      const body = opts?.resourceVersion ? { preconditions: { resourceVersion: opts.resourceVersion } } : undefined;
      await call(opts?.signal, (o) => api.deleteNamespacedCustomObject({ ...target(def), name, body }, o));
    },

    watch(kind: ResourceKind, opts: ResourceWatchOptions) {
      return watchEvents(definition(kind), opts);
    },
  };

  async function* watchEvents(def: ResourceDefinition, { signal, resourceVersion }: ResourceWatchOptions): AsyncGenerator<ResourceWatchEvent<Resource>> {
    if (signal.aborted) return;
    const path = `/apis/${def.group}/${def.version}/namespaces/${encodeURIComponent(namespace)}/${def.plural}`;
    try {
      let cursor = resourceVersion;
      if (cursor === undefined) {
        const listed = await store.list(def.kind, { signal });
        for (const object of listed.items) yield { type: 'ADDED', object };
        cursor = listed.resourceVersion;
      }
      while (!signal.aborted) {
        let heard = false;
        for await (const event of connect(path, cursor, signal)) {
          heard = true;
          const object = event.object as Resource;
          if (event.type === 'ERROR') throw translateStatus(event.object, 'watch failed');
          cursor = object?.metadata?.resourceVersion ?? cursor;
          if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') yield { type: event.type, object: normalize(object) };
        }
        // The server ended the watch (they time out): carry on from the last version seen.
        if (!heard) await delay(reconnectDelayMs, signal);
      }
    } catch (error) {
      if (!signal.aborted) throw translateKubernetesError(error);
    }
  }

  /** One watch request, as a stream of raw events; ends when the server closes it or on abort. */
  async function* connect(path: string, resourceVersion: string, signal: AbortSignal): AsyncGenerator<{ type: string; object: unknown }> {
    const events: { type: string; object: unknown }[] = [];
    let ended = false;
    let failure: unknown;
    let notify: (() => void) | undefined;
    const connecting = watcher.watch(
      path,
      { resourceVersion, allowWatchBookmarks: true },
      (type, object) => {
        events.push({ type, object });
        notify?.();
      },
      (error) => {
        ended = true;
        failure = error;
        notify?.();
      },
    );
    const onAbort = () => notify?.();
    signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        const next = events.shift();
        if (next) {
          yield next;
          continue;
        }
        if (ended || signal.aborted) break;
        await new Promise<void>((resolve) => (notify = resolve));
        notify = undefined;
      }
      if (failure && !signal.aborted) throw failure;
    } finally {
      signal.removeEventListener('abort', onAbort);
      // The controller exists once the response started; aborting it closes the connection.
      void connecting.then((controller) => controller.abort(), () => undefined);
    }
  }

  async function call(signal: AbortSignal | undefined, request: (options: ConfigurationOptions) => Promise<unknown>, contentType?: string): Promise<unknown> {
    signal?.throwIfAborted();
    try {
      return await request(requestOptions(signal, contentType));
    } catch (error) {
      throw translateKubernetesError(error);
    }
  }

  return store as unknown as ResourceStore;
}

function loadKubeConfig(options: KubernetesResourceStoreOptions): KubeConfig {
  const sources = [options.kubeconfigPath, options.kubeconfig, options.inCluster || undefined].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new InvalidInputError('give exactly one of kubeconfigPath, kubeconfig and inCluster', [{ path: 'kubeconfig', message: 'exactly one source' }]);
  }
  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfig) {
      const { clusters, users, contexts, currentContext } = options.kubeconfig;
      kubeConfig.loadFromOptions({ clusters: clusters.map((c) => ({ skipTLSVerify: false, ...c })), users, contexts, currentContext });
    } else if (options.kubeconfigPath) {
      kubeConfig.loadFromFile(options.kubeconfigPath);
    } else {
      kubeConfig.loadFromCluster();
    }
  } catch (error) {
    throw new InvalidInputError(`cannot load the kubeconfig: ${error instanceof Error ? error.message : String(error)}`, [{ path: 'kubeconfig', message: 'unreadable' }], { cause: error });
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new InvalidInputError('the kubeconfig has no current cluster', [{ path: 'kubeconfig', message: 'no current context or cluster' }]);
  }
  return kubeConfig;
}

/** Per-request options: the caller's abort signal and, for patches, the content type. */
function requestOptions(signal: AbortSignal | undefined, contentType: string | undefined): ConfigurationOptions {
  // The object-parameter API runs observable middleware (its own small Observable, not rxjs).
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      if (signal) context.setSignal(signal);
      if (contentType) context.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** The port's object shape: server-side extras such as managedFields stay behind. */
function normalize(raw: unknown): Resource {
  const object = (raw ?? {}) as Resource;
  const source = (object.metadata ?? {}) as ResourceMetadata & Record<string, unknown>;
  const metadata: ResourceMetadata = { name: source.name };
  for (const key of ['namespace', 'labels', 'annotations', 'resourceVersion', 'uid', 'creationTimestamp', 'generation'] as const) {
    if (source[key] !== undefined) (metadata as unknown as Record<string, unknown>)[key] = source[key];
  }
  const result: Resource = { apiVersion: object.apiVersion, kind: object.kind, metadata };
  if (object.spec !== undefined) result.spec = object.spec;
  if (object.status !== undefined) result.status = object.status;
  return result;
}

interface Status {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/**
 * A failure of the client library as a core error, the original kept as `cause`: the API server's Status
 * (404, 409, 410, 422, ...) by its code, a network failure as unavailable.
 */
export function translateKubernetesError(error: unknown): Error {
  if (isArchipelError(error)) return error;
  if (error instanceof ApiException) {
    const code = error.code as number;
    return byCode(code, parseStatus(error.body), `Kubernetes API answered ${code}`, error);
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  const fields = (typeof error === 'object' && error !== null ? error : {}) as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof fields.statusCode === 'number') return byCode(fields.statusCode, undefined, `Kubernetes API answered ${fields.statusCode}`, error);
  const message = typeof fields.message === 'string' ? fields.message : String(error);
  return new UnavailableError(`Kubernetes API unreachable: ${message}`, { cause: error, details: typeof fields.code === 'string' ? { code: fields.code } : {} });
}

/** A Status sent as a watch ERROR event. */
function translateStatus(object: unknown, fallback: string): Error {
  const status = (object ?? {}) as Status;
  return byCode(status.code ?? 500, status, fallback, status);
}

function byCode(code: number, status: Status | undefined, fallback: string, cause: unknown): Error {
  const message = status?.message || fallback;
  const options = { cause, details: { code, ...(status?.reason ? { reason: status.reason } : {}) } };
  if (code === 400 || code === 422) {
    const issues = (status?.details?.causes ?? []).map((c) => ({ path: c.field ?? '', message: c.message ?? '', reason: c.reason ?? '' }));
    return new InvalidInputError(message, issues, options);
  }
  if (code === 401) return new NotAuthenticatedError(message, options);
  if (code === 403) return new NotAllowedError(message, options);
  if (code === 404) return new NotFoundError(message, options);
  if (code === 409) return new ConflictError(message, options);
  if (code === 410) return new ResourceExpiredError(message, options);
  if (code === 413) return new PayloadTooLargeError(message, options);
  if (code === 429 || code >= 500) return new UnavailableError(message, options);
  return new InternalError(`${message} (HTTP ${code})`, options);
}

function parseStatus(body: unknown): Status | undefined {
  if (typeof body === 'object' && body !== null) return body as Status;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Status) : undefined;
  } catch {
    return undefined;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
    if (signal.aborted) done();
  });
}
