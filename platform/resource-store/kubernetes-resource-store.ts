import { CustomObjectsApi, PatchStrategy, Watch, type ConfigurationOptions } from '@kubernetes/client-node';
import {
  InvalidInputError,
  ResourceExpiredError,
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
import { loadKubeConfig, requestOptions, translateKubernetesError, translateStatus, type KubeconfigSource } from '../kubernetes/index.ts';
import { checkRequest, conformOrThrow, type Operation } from './api-semantics.ts';
import { labelSelectorIssues, loadResourceSchemas, type ResourceDefinition, type ResourceSchemas } from './crd-schemas.ts';

/** One of `kubeconfigPath` (a file), `kubeconfig` (as data) or `inCluster` (the pod's service account). */
export interface KubernetesResourceStoreOptions extends KubeconfigSource {
  /** The namespace holding this node's objects. */
  namespace: string;
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
