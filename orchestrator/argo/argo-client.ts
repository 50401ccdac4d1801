import createClient from 'openapi-fetch';
import { ArchipelError, InternalError, InvalidInputError } from '../../core/index.ts';
import { argoUnreachable, isAbort, translateArgoError } from './argo-errors.ts';
import type { ArgoLogEntry, ArgoWorkflow, ArgoWorkflowEvent } from './argo-workflow.ts';
import type { components, paths } from './generated/argo-api.d.ts';
import { readJsonLines } from './json-lines.ts';

/**
 * The Argo Workflows server's REST API (cluster mode's workflow engine), typed from Argo's own OpenAPI
 * spec. Vendor types stay in this file; callers see `ArgoWorkflow` and the core error taxonomy.
 */

export interface ArgoClientOptions {
  /** The Argo server, e.g. `https://argo-server.argo:2746`. */
  baseUrl: string;
  namespace: string;
  /** A service-account token, with or without the `Bearer ` prefix (`argo auth token` prints it with). */
  token?: string;
  fetch?: typeof fetch;
}

export interface ArgoRequestOptions {
  signal?: AbortSignal;
}

/** Kubernetes label selector syntax (`a=b,c!=d`), or equalities as an object. */
export type ArgoLabelSelector = string | Record<string, string>;

export interface ArgoLogsOptions extends ArgoRequestOptions {
  /** One pod only; by default every pod of the Workflow. */
  podName?: string;
  /** Defaults to `main`, the container that runs a template's command. */
  container?: string;
  /** Keep streaming while the pods run. */
  follow?: boolean;
}

export interface ArgoClient {
  readonly namespace: string;
  /** Creates the Workflow; the server validates it and assigns `metadata.name` from `generateName`. */
  submit(workflow: Record<string, unknown>, options?: ArgoRequestOptions): Promise<ArgoWorkflow>;
  get(name: string, options?: ArgoRequestOptions): Promise<ArgoWorkflow>;
  list(options?: { labelSelector?: ArgoLabelSelector } & ArgoRequestOptions): Promise<ArgoWorkflow[]>;
  /**
   * Changes to one Workflow (by name) or to those matching a label selector: ADDED for what exists at
   * the start, then MODIFIED. Ends without error when `signal` aborts, or when the server closes the
   * stream (it does after a while): watch again to continue.
   */
  watch(target: string | { labelSelector: ArgoLabelSelector }, options: { signal: AbortSignal }): AsyncIterable<ArgoWorkflowEvent>;
  logs(name: string, options?: ArgoLogsOptions): AsyncIterable<ArgoLogEntry>;
  /** Asks the controller to stop: running steps finish, exit handlers run, then the phase is Failed. */
  stop(name: string, options?: ArgoRequestOptions): Promise<ArgoWorkflow>;
  /** Asks the controller to kill the pods at once, without exit handlers; the phase becomes Failed. */
  terminate(name: string, options?: ArgoRequestOptions): Promise<ArgoWorkflow>;
  /** Runs a Failed or Error Workflow again from its failed nodes; succeeded nodes keep their results. */
  retry(name: string, options?: ArgoRequestOptions): Promise<ArgoWorkflow>;
  /** Deletes the Workflow (its pods and, per the controller's policy, its logs). */
  delete(name: string, options?: ArgoRequestOptions): Promise<void>;
}

type WireWorkflow = components['schemas']['io.argoproj.workflow.v1alpha1.Workflow'];
type Answer<T> = { data?: T; error?: unknown; response: Response };

export function createArgoClient(options: ArgoClientOptions): ArgoClient {
  const { namespace } = options;
  if (!namespace) throw new InvalidInputError('The Argo client needs a namespace', [{ path: 'namespace', message: 'is required' }]);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const api = createClient<paths>({
    baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    headers: options.token ? { Authorization: bearer(options.token) } : {},
  });
  const path = { namespace };

  async function call<T>(operation: string, signal: AbortSignal | undefined, request: () => Promise<Answer<T>>): Promise<T> {
    let answer: Answer<T>;
    try {
      answer = await request();
    } catch (error) {
      if (isAbort(error, signal)) throw error;
      throw argoUnreachable(operation, baseUrl, error);
    }
    if (!answer.response.ok) throw translateArgoError(operation, answer.response.status, answer.error);
    if (answer.data === undefined || answer.data === null) throw new InternalError(`${operation}: the Argo server answered ${answer.response.status} without a body`);
    return answer.data;
  }

  /** Streams the `result`s of a server-streaming call, translating a mid-stream `error`. */
  async function* stream(operation: string, signal: AbortSignal | undefined, request: () => Promise<Answer<ReadableStream<Uint8Array>>>) {
    let body: ReadableStream<Uint8Array>;
    try {
      body = await call(operation, signal, request);
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
    try {
      for await (const line of readJsonLines(body, signal)) {
        const { result, error } = line as { result?: unknown; error?: { http_code?: number } };
        if (error) throw translateArgoError(operation, error.http_code ?? 500, error);
        if (result !== undefined) yield result;
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof ArchipelError) throw error;
      throw argoUnreachable(operation, baseUrl, error);
    }
  }

  return {
    namespace,

    async submit(workflow, { signal } = {}) {
      const created = await call(`submit a Workflow to namespace "${namespace}"`, signal, () =>
        api.POST('/api/v1/workflows/{namespace}', { params: { path }, body: { namespace, workflow: toWire(workflow) }, signal }),
      );
      return fromWire(created);
    },

    async get(name, { signal } = {}) {
      const found = await call(`get Workflow "${namespace}/${name}"`, signal, () =>
        api.GET('/api/v1/workflows/{namespace}/{name}', { params: { path: { namespace, name } }, signal }),
      );
      return fromWire(found);
    },

    async list({ labelSelector, signal } = {}) {
      const query = labelSelector === undefined ? {} : { 'listOptions.labelSelector': selector(labelSelector) };
      const list = await call(`list Workflows in namespace "${namespace}"`, signal, () =>
        api.GET('/api/v1/workflows/{namespace}', { params: { path, query }, signal }),
      );
      // Argo sends `"items": null` for an empty list (a nil Go slice), though the spec says required.
      return (list.items ?? []).map(fromWire);
    },

    async *watch(target, { signal }) {
      const query =
        typeof target === 'string'
          ? { 'listOptions.fieldSelector': `metadata.name=${target}` }
          : { 'listOptions.labelSelector': selector(target.labelSelector) };
      const what = typeof target === 'string' ? `Workflow "${namespace}/${target}"` : `Workflows in namespace "${namespace}"`;
      const events = stream(`watch ${what}`, signal, () =>
        api.GET('/api/v1/workflow-events/{namespace}', { params: { path, query }, parseAs: 'stream', signal }) as Promise<Answer<ReadableStream<Uint8Array>>>,
      );
      for await (const result of events) {
        const event = result as { type?: string; object?: WireWorkflow };
        if (event.object) yield { type: event.type ?? '', object: fromWire(event.object) };
      }
    },

    async *logs(name, { podName, container = 'main', follow, signal } = {}) {
      const query = {
        'logOptions.container': container,
        ...(podName === undefined ? {} : { podName }),
        ...(follow === undefined ? {} : { 'logOptions.follow': follow }),
      };
      const entries = stream(`read the logs of Workflow "${namespace}/${name}"`, signal, () =>
        api.GET('/api/v1/workflows/{namespace}/{name}/log', { params: { path: { namespace, name }, query }, parseAs: 'stream', signal }) as Promise<
          Answer<ReadableStream<Uint8Array>>
        >,
      );
      for await (const result of entries) {
        const entry = result as { podName?: string; content?: string };
        yield { podName: entry.podName ?? '', content: entry.content ?? '' };
      }
    },

    async stop(name, { signal } = {}) {
      const stopped = await call(`stop Workflow "${namespace}/${name}"`, signal, () =>
        api.PUT('/api/v1/workflows/{namespace}/{name}/stop', { params: { path: { namespace, name } }, body: { namespace, name }, signal }),
      );
      return fromWire(stopped);
    },

    async terminate(name, { signal } = {}) {
      const terminated = await call(`terminate Workflow "${namespace}/${name}"`, signal, () =>
        api.PUT('/api/v1/workflows/{namespace}/{name}/terminate', { params: { path: { namespace, name } }, body: { namespace, name }, signal }),
      );
      return fromWire(terminated);
    },

    async retry(name, { signal } = {}) {
      const retried = await call(`retry Workflow "${namespace}/${name}"`, signal, () =>
        api.PUT('/api/v1/workflows/{namespace}/{name}/retry', { params: { path: { namespace, name } }, body: { namespace, name }, signal }),
      );
      return fromWire(retried);
    },

    async delete(name, { signal } = {}) {
      await call(`delete Workflow "${namespace}/${name}"`, signal, () =>
        api.DELETE('/api/v1/workflows/{namespace}/{name}', { params: { path: { namespace, name } }, signal }),
      );
    },
  };
}

function bearer(token: string): string {
  return /^bearer /i.test(token) ? token : `Bearer ${token}`;
}

function selector(labels: ArgoLabelSelector): string {
  return typeof labels === 'string' ? labels : Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',');
}

// The two casts between Archipel's plain object and the generated type: the server validates the shape.
function toWire(workflow: Record<string, unknown>): WireWorkflow {
  return workflow as unknown as WireWorkflow;
}

function fromWire(workflow: WireWorkflow): ArgoWorkflow {
  return workflow as unknown as ArgoWorkflow;
}
