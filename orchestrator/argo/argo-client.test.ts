import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConflictError, InvalidInputError, NotAuthenticatedError, NotFoundError, UnavailableError } from '../../core/index.ts';
import { createArgoClient } from './index.ts';
import type { ArgoClient, ArgoWorkflowEvent } from './index.ts';
import { argoPodName } from './pod-names.ts';
import { startArgoServerDouble } from './argo-server-double.ts';
import type { ArgoServerDouble } from './argo-server-double.ts';

const TOKEN = 'sa-token';
const NAMESPACE = 'archipel';
const RUN_LABEL = 'archipel.io/run-id';
const WAIT = { timeout: 5_000 };

/** A DAG of two container templates: `prepare` then `compute`. */
function twoStepWorkflow(metadata: Record<string, unknown> = { generateName: 'two-steps-' }) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata,
    spec: {
      entrypoint: 'main',
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              { name: 'prepare', template: 'prepare' },
              { name: 'compute', template: 'compute', dependencies: ['prepare'] },
            ],
          },
        },
        { name: 'prepare', container: { image: 'alpine:3.20', command: ['sh', '-c', 'echo prepared'] } },
        { name: 'compute', container: { image: 'python:3.12-slim', command: ['python', '-c', 'print(6 * 7)'], resources: { limits: { cpu: '1' } } } },
      ],
    },
  };
}

const nodes = (phase: 'Running' | 'Succeeded') => [
  { displayName: 'prepare', phase: 'Succeeded' as const },
  { displayName: 'compute', phase },
];

describe('Argo client against the Argo server double', () => {
  let argo: ArgoServerDouble;
  let client: ArgoClient;

  beforeAll(async () => {
    argo = await startArgoServerDouble({ token: TOKEN });
    client = createArgoClient({ baseUrl: argo.url, namespace: NAMESPACE, token: TOKEN });
  });
  afterAll(() => argo.stop());

  it('submits a Workflow: the server names it from generateName and it starts Pending', async () => {
    const created = await client.submit(twoStepWorkflow());
    expect(created.metadata.name).toMatch(/^two-steps-[a-z0-9]{5}$/);
    expect(created.metadata).toMatchObject({ namespace: NAMESPACE, uid: expect.any(String), resourceVersion: expect.any(String) });
    expect(created.status?.phase).toBe('Pending');
    expect(await client.get(created.metadata.name!)).toEqual(created);
  });

  it('lists Workflows by label', async () => {
    const mine = await client.submit(twoStepWorkflow({ generateName: 'mine-', labels: { [RUN_LABEL]: 'run-1' } }));
    await client.submit(twoStepWorkflow({ generateName: 'other-', labels: { [RUN_LABEL]: 'run-2' } }));
    const listed = await client.list({ labelSelector: { [RUN_LABEL]: 'run-1' } });
    expect(listed.map((wf) => wf.metadata.name)).toEqual([mine.metadata.name]);
    expect(await client.list({ labelSelector: `${RUN_LABEL}=nobody` })).toEqual([]);
  });

  it('rejects a Workflow that breaks Argo’s schema with an invalid-input error naming the problem', async () => {
    const workflow = twoStepWorkflow();
    delete (workflow.spec.templates[0]!.dag!.tasks[1] as { name?: string }).name;
    const error = await client.submit(workflow).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain("/spec/templates/0/dag/tasks/1 must have required property 'name'");
    expect((error as Error).cause).toMatchObject({ status: 400, body: { code: 3 } });
  });

  it('reports an unknown Workflow as not found', async () => {
    const error = await client.get('no-such-workflow').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain('workflows.argoproj.io "no-such-workflow" not found');
  });

  it('reports a taken name as a conflict', async () => {
    await client.submit(twoStepWorkflow({ name: 'fixed-name' }));
    await expect(client.submit(twoStepWorkflow({ name: 'fixed-name' }))).rejects.toBeInstanceOf(ConflictError);
  });

  it('watches a Workflow move through its phases until the signal aborts', async () => {
    const { metadata } = await client.submit(twoStepWorkflow());
    const name = metadata.name!;
    const controller = new AbortController();
    const seen: ArgoWorkflowEvent[] = [];
    const watching = (async () => {
      for await (const event of client.watch(name, { signal: controller.signal })) seen.push(event);
    })();
    await vi.waitFor(() => expect(seen).toHaveLength(1), WAIT);
    argo.advance(name, 'Running', nodes('Running'));
    argo.advance(name, 'Succeeded', nodes('Succeeded'));
    await vi.waitFor(() => expect(seen).toHaveLength(3), WAIT);
    controller.abort();
    await watching;
    expect(seen.map((e) => `${e.type} ${e.object.status?.phase}`)).toEqual(['ADDED Pending', 'MODIFIED Running', 'MODIFIED Succeeded']);
    expect(Object.values(seen[2]!.object.status?.nodes ?? {}).map((n) => `${n.displayName} ${n.phase}`)).toContain('compute Succeeded');
  });

  it('watches by label selector and sees only matching Workflows', async () => {
    const controller = new AbortController();
    const names: string[] = [];
    const watching = (async () => {
      for await (const event of client.watch({ labelSelector: { [RUN_LABEL]: 'watched' } }, { signal: controller.signal })) names.push(event.object.metadata.name!);
    })();
    await client.submit(twoStepWorkflow({ generateName: 'unwatched-', labels: { [RUN_LABEL]: 'other' } }));
    const watched = await client.submit(twoStepWorkflow({ generateName: 'watched-', labels: { [RUN_LABEL]: 'watched' } }));
    await vi.waitFor(() => expect(names).toEqual([watched.metadata.name]), WAIT);
    controller.abort();
    await watching;
  });

  it('reads the logs of every pod, or of one', async () => {
    const { metadata } = await client.submit(twoStepWorkflow());
    const name = metadata.name!;
    argo.advance(name, 'Succeeded', nodes('Succeeded'));
    const all = [];
    for await (const entry of client.logs(name)) all.push(entry);
    const computePod = argoPodName(name, `${name}.compute`, 'compute');
    expect(new Set(all.map((e) => e.podName))).toEqual(new Set([argoPodName(name, `${name}.prepare`, 'prepare'), computePod]));
    const one = [];
    for await (const entry of client.logs(name, { podName: computePod })) one.push(entry);
    expect(one.map((e) => e.content)).toEqual(['compute started (main)', 'compute succeeded']);
  });

  it.each([
    ['stop', 'Stop'],
    ['terminate', 'Terminate'],
  ] as const)('%s fails a running Workflow the way Argo’s controller does', async (action, strategy) => {
    const { metadata } = await client.submit(twoStepWorkflow());
    const name = metadata.name!;
    argo.advance(name, 'Running', nodes('Running'));
    const answered = await client[action](name);
    expect(answered.spec.shutdown).toBe(strategy);
    const after = await client.get(name);
    expect(after.status).toMatchObject({ phase: 'Failed', message: `Stopped with strategy '${strategy}'` });
    expect(Object.values(after.status?.nodes ?? {}).find((n) => n.displayName === 'compute')?.phase).toBe('Failed');
    // Argo answers 500 for a finished Workflow; the client calls that a conflict, not an outage.
    await expect(client[action](name)).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses a wrong or missing token as not authenticated', async () => {
    const wrong = createArgoClient({ baseUrl: argo.url, namespace: NAMESPACE, token: 'Bearer not-the-token' });
    await expect(wrong.list()).rejects.toBeInstanceOf(NotAuthenticatedError);
    const none = createArgoClient({ baseUrl: argo.url, namespace: NAMESPACE });
    await expect(none.get('anything')).rejects.toBeInstanceOf(NotAuthenticatedError);
  });
});

describe('Argo client when the server is not there', () => {
  it('reports an unreachable server as unavailable (retryable)', async () => {
    const argo = await startArgoServerDouble();
    await argo.stop();
    const client = createArgoClient({ baseUrl: argo.url, namespace: NAMESPACE });
    const error = await client.get('anything').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retryable).toBe(true);
    await expect(client.watch('anything', { signal: new AbortController().signal })[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(UnavailableError);
  });

  it('reports a 5xx answer as unavailable', async () => {
    const fetch = async () => new Response(JSON.stringify({ code: 14, message: 'upstream connect error' }), { status: 503 });
    const client = createArgoClient({ baseUrl: 'http://argo.invalid', namespace: NAMESPACE, fetch });
    await expect(client.list()).rejects.toThrow(UnavailableError);
  });
});
