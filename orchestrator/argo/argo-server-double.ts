import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArgoStatusError, createDoubleStore, GRPC } from './argo-double-store.ts';
import { isFinalArgoPhase } from './argo-workflow.ts';
import type { DoubleNode } from './argo-double-store.ts';
import type { ArgoWorkflow, ArgoWorkflowPhase, ArgoWorkflowStatus } from './argo-workflow.ts';
import { validateArgoWorkflow } from './workflow-schema.ts';
import type { ArgoWorkflowValidator } from './workflow-schema.ts';

/**
 * Test support, not production: an in-process stand-in for the Argo Workflows server's REST API
 * (`../shared/argo/swagger.json`), serving the calls the client makes with Argo's status codes and
 * grpc-gateway bodies. Submitted Workflows are checked against Argo's JSON schema. Nothing runs:
 * tests move Workflows along with `advance()`.
 */

export interface ArgoServerDoubleOptions {
  /** When set, every call needs `Authorization: Bearer <token>`, as with `--auth-mode=client`. */
  token?: string;
  validate?: ArgoWorkflowValidator;
  /** Plays the workflow controller for real (runs what is submitted); without one, tests call `advance()`. */
  controller?: ArgoDoubleController;
}

/** What runs submitted Workflows behind the double, reporting their status as the controller would. */
export interface ArgoDoubleController {
  run(workflow: ArgoWorkflow, report: (status: ArgoWorkflowStatus) => void): void;
  stop(name: string): Promise<void>;
  retry(name: string, report: (status: ArgoWorkflowStatus) => void): Promise<void>;
  delete(name: string): Promise<void>;
  /** A pod's container log (the node that runs it, by id). */
  logs(name: string, nodeId: string, container: string): Promise<string>;
}

export interface ArgoServerDouble {
  url: string;
  /** The stored Workflows by `namespace/name`; live objects. */
  workflows: Map<string, ArgoWorkflow>;
  /** Plays the controller: sets the phase (and node statuses), then notifies watchers. */
  advance(name: string, phase: ArgoWorkflowPhase, nodes?: DoubleNode[]): ArgoWorkflow;
  stop(): Promise<void>;
}

export type { DoubleNode };

const NOT_VALID = 'token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/';
const WORKFLOWS = /^\/api\/v1\/workflows\/([^/]+)$/;
const ROUTES = [
  { method: 'POST', path: WORKFLOWS, call: 'create' },
  { method: 'GET', path: WORKFLOWS, call: 'list' },
  { method: 'GET', path: /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)$/, call: 'get' },
  { method: 'DELETE', path: /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)$/, call: 'delete' },
  { method: 'PUT', path: /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)\/retry$/, call: 'retry' },
  { method: 'PUT', path: /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)\/stop$/, call: 'stop' },
  { method: 'PUT', path: /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)\/terminate$/, call: 'terminate' },
  { method: 'GET', path: /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)\/log$/, call: 'log' },
  { method: 'GET', path: /^\/api\/v1\/workflow-events\/([^/]+)$/, call: 'watch' },
] as const;

export async function startArgoServerDouble(options: ArgoServerDoubleOptions = {}): Promise<ArgoServerDouble> {
  const store = createDoubleStore(options.validate ?? validateArgoWorkflow);
  const streams = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      throw new ArgoStatusError(401, GRPC.Unauthenticated, NOT_VALID);
    }
    const url = new URL(req.url ?? '/', 'http://double');
    const query = url.searchParams;
    const filter = { labelSelector: query.get('listOptions.labelSelector') ?? '', fieldSelector: query.get('listOptions.fieldSelector') ?? '' };
    const onPath = ROUTES.filter((r) => r.path.test(url.pathname));
    const matched = onPath.find((r) => r.method === req.method);
    if (!matched) throw onPath.length ? new ArgoStatusError(501, GRPC.Unimplemented, 'Method Not Allowed') : new ArgoStatusError(404, GRPC.NotFound, 'Not Found');
    const [namespace = '', name = ''] = (matched.path.exec(url.pathname) ?? []).slice(1).map(decodeURIComponent);

    const controller = options.controller;
    const report = (ns: string, wf: string) => (status: ArgoWorkflowStatus) => store.setStatus(ns, wf, status);
    switch (matched.call) {
      case 'create': {
        const request = await readJson(req);
        const created = store.create(namespace, request);
        if (controller && !request.serverDryRun) controller.run(store.get(namespace, created.metadata.name!), report(namespace, created.metadata.name!));
        return json(res, 200, created);
      }
      case 'delete':
        store.get(namespace, name);
        await controller?.delete(name);
        store.delete(namespace, name);
        return json(res, 200, {});
      case 'retry': {
        await readJson(req);
        const retried = store.retry(namespace, name);
        await controller?.retry(name, report(namespace, name));
        return json(res, 200, retried);
      }
      case 'list': {
        const items = store.list(namespace, filter);
        // A nil Go slice: Argo answers `null`, not `[]`, when nothing matches.
        return json(res, 200, { metadata: { resourceVersion: store.resourceVersion() }, items: items.length ? items : null });
      }
      case 'get':
        return json(res, 200, store.get(namespace, name));
      case 'stop':
      case 'terminate':
        await readJson(req);
        if (controller) {
          const answer = store.get(namespace, name);
          if (isFinalArgoPhase(answer.status?.phase)) return json(res, 200, store.shutdown(namespace, name, 'Stop'));
          await controller.stop(name);
          return json(res, 200, answer);
        }
        return json(res, 200, store.shutdown(namespace, name, matched.call === 'stop' ? 'Stop' : 'Terminate'));
      case 'log':
        return controller ? realLogs(res, controller, namespace, name, query) : logs(res, namespace, name, query);
      case 'watch': {
        // Subscribing before the 200 lets a 404 or a bad selector answer as an error; the initial
        // ADDED events wait for the stream to open.
        const pending: string[] = [];
        let open = false;
        const unsubscribe = store.watch(namespace, filter, (type, object) => {
          const line = `${JSON.stringify({ result: { type, object } })}\n`;
          if (open) res.write(line);
          else pending.push(line);
        });
        openStream(res);
        open = true;
        for (const line of pending) res.write(line);
        res.on('close', unsubscribe);
      }
    }
  }

  // Canned lines, two per pod: the double runs no containers.
  function logs(res: ServerResponse, namespace: string, name: string, query: URLSearchParams): void {
    const pods = store.pods(namespace, name).filter(({ podName }) => !query.get('podName') || podName === query.get('podName'));
    const container = query.get('logOptions.container') ?? 'main';
    openStream(res);
    for (const { podName, node } of pods) {
      for (const content of [`${node.displayName} started (${container})`, `${node.displayName} ${node.phase?.toLowerCase() ?? 'pending'}`]) {
        res.write(`${JSON.stringify({ result: { content, podName } })}\n`);
      }
    }
    res.end();
  }

  // The controller's logs, a line an entry, as the server streams a pod's log.
  async function realLogs(res: ServerResponse, controller: ArgoDoubleController, namespace: string, name: string, query: URLSearchParams) {
    const pods = store.pods(namespace, name).filter(({ podName }) => !query.get('podName') || podName === query.get('podName'));
    const container = query.get('logOptions.container') ?? 'main';
    const texts = await Promise.all(pods.map(async ({ podName, node }) => ({ podName, text: await controller.logs(name, node.id, container).catch(() => '') })));
    openStream(res);
    for (const { podName, text } of texts) {
      for (const content of text ? text.replace(/\n$/, '').split('\n') : []) res.write(`${JSON.stringify({ result: { content, podName } })}\n`);
    }
    res.end();
  }

  function openStream(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc' });
    res.flushHeaders();
    streams.add(res);
    res.on('close', () => streams.delete(res));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof ArgoStatusError) return json(res, error.httpStatus, { code: error.code, message: error.message });
      json(res, 500, { code: GRPC.Internal, message: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    workflows: store.workflows,
    advance: (name, phase, nodes) => store.advance(name, phase, nodes),
    async stop() {
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** grpc-gateway rejects a body that is not JSON with InvalidArgument. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ArgoStatusError(400, GRPC.InvalidArgument, 'unexpected body: the request body is not a JSON object');
}
