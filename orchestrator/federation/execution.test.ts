import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotAllowedError, NotFoundError, UnavailableError, type WorkflowEngine } from '../../core/index.ts';
import { signFields, type PeerTransport } from '../../discovery/index.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/sql/testing.ts';
import { loadCwlProcess } from '../cwl/load/load-process.ts';
import { createLocalEngine, createProcessRunner, podLogFile, type LocalEngine, type Template } from '../engine/index.ts';
import { asWorkflow, translateWorkflow } from '../translate/translate-workflow.ts';
import { executionProtocol, ExecutionStatusSchema, originStoreUrl } from './execution-protocol.ts';
import { admitTemplate, createExecutionResponder, executionRunName, type HeldReservation } from './execution-responder.ts';
import type { PeerExecution } from './peer-executions.ts';
import { createRemotePods, executionId, type RemotePodsOptions } from './remote-pods.ts';

let database: TestDatabase;
let root: string;
let originKey: PrivateKey;
let origin: string;
let executor: string;
const engines: LocalEngine[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  root = mkdtempSync(join(tmpdir(), 'archipel-execution-'));
  originKey = await generateKeyPair('Ed25519');
  origin = peerIdFromPrivateKey(originKey).toString();
  executor = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
afterAll(async () => {
  await database.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** The tool template the translation makes for a step placed on `cluster`. */
async function toolTemplate(cluster: string): Promise<Template> {
  const file = join(root, 'wf.cwl');
  writeFileSync(
    file,
    'cwlVersion: v1.2\nclass: Workflow\ninputs: {}\noutputs: {}\nsteps:\n  hello:\n    run:\n      class: CommandLineTool\n      baseCommand: echo\n      inputs: {}\n      outputs: {}\n    in: {}\n    out: []\n',
  );
  const manifest = translateWorkflow(asWorkflow(await loadCwlProcess(file)), { runId: 'r1', placement: { hello: cluster } }) as unknown as { spec: { templates: Template[] } };
  return manifest.spec.templates.find((t) => t.containerSet)!;
}

/** A pod as it may run for a peer: one container writing to its log and an output file in its volume. */
const plainPod = (script: string): Template =>
  ({
    name: 'pod',
    volumes: [{ name: 'work', emptyDir: {} }],
    outputs: { parameters: [{ name: 'said', valueFrom: { path: '/work/said' } }] },
    containerSet: {
      volumeMounts: [{ name: 'work', mountPath: '/work' }],
      containers: [{ name: 'main', image: 'alpine', command: ['/bin/sh', '-c', script] }],
    },
  }) as unknown as Template;

/** The executing cluster (a real local engine) answering the origin's requests, in process. */
function executing(reservation: (id: string) => HeldReservation | undefined, peered = true) {
  const engine = createLocalEngine({ db: database.db, workRoot: join(root, 'work'), cores: 2, memoryMiB: 2048, runContainer: createProcessRunner() });
  engines.push(engine);
  const records: PeerExecution[] = [];
  const responder = createExecutionResponder({
    engine,
    record: async (execution) => void records.push(execution),
    recorded: async (cluster) => records.filter((r) => r.originCluster === cluster).map((r) => r.engineName),
    reservation: async (from, user, id) => {
      const held = from === origin && user === 'alice' ? reservation(id) : undefined;
      if (!held) throw new NotFoundError(`no reservation ${id}`);
      return held;
    },
    clusterId: () => executor,
    isPeered: () => peered,
  });
  const transport: PeerTransport = async (_id, request) => JSON.parse(JSON.stringify(await responder.answer(JSON.parse(JSON.stringify(request)), origin)));
  const ask = executionProtocol.requester(
    { clusterId: () => origin, isPeered: () => true, sign: (domain, fields) => signFields(originKey, domain, fields), ask: transport },
    ExecutionStatusSchema,
  );
  return { engine: engine as WorkflowEngine, ask, responder };
}

const RESERVATION = '5e72c3a7-9a6b-4491-aede-7c053bc3c266';
const active: HeldReservation = { state: 'active', cores: 1, memoryMiB: 512 };
const start = (template: Template, execution = 'e-1') => ({
  op: 'start' as const,
  execution,
  user: 'alice',
  project: 'survey',
  reservationId: RESERVATION,
  run: 'r1',
  template: template as unknown as Record<string, unknown>,
  logOffsets: { main: 0 },
});

describe('the pods a cluster runs for a peer', () => {
  it('takes a tool pod of the translation, its store becoming the origin reached over the peering', async () => {
    const translated = await toolTemplate(executor);
    const admitted = admitTemplate(translated as unknown as Record<string, unknown>, originStoreUrl(origin, 'e-1'));
    const stores = admitted.containerSet!.containers.filter((c) => c.command?.[0] === 'archipel').map((c) => c.args![c.args!.indexOf('--store') + 1]);
    expect(stores).toEqual([`archipel-origin://${origin}/e-1`, `archipel-origin://${origin}/e-1`]);
    // It runs where it is sent, whatever the origin's placement said; its parameters were substituted.
    expect(Object.keys(admitted.metadata?.annotations ?? {}).filter((k) => k.includes('cluster') || k.includes('admiralty'))).toEqual([]);
    expect(admitted.inputs).toBeUndefined();
  });

  it('refuses what is not a tool pod of the translation, naming what', () => {
    const store = originStoreUrl(origin, 'e-1');
    const refused = (template: Record<string, unknown>) => () => admitTemplate(template, store);
    expect(refused({ name: 'x', dag: { tasks: [] } })).toThrow(/template\.dag is not accepted/);
    expect(refused({ ...plainPod('true'), volumes: [{ name: 'work', hostPath: { path: '/etc' } }] } as unknown as Record<string, unknown>)).toThrow(/volume work is not an emptyDir/);
    const leaky = { ...plainPod('true'), outputs: { parameters: [{ name: 'p', valueFrom: { path: '/etc/shadow' } }] } };
    expect(refused(leaky as unknown as Record<string, unknown>)).toThrow(/reads \/etc\/shadow, outside the pod's volumes/);
    const prepare = plainPod('true');
    prepare.containerSet!.containers[0] = { name: 'main', command: ['archipel', 'step', 'prepare'], args: ['--store', 'file:///'] };
    expect(refused(prepare as unknown as Record<string, unknown>)).toThrow(/runs "archipel step prepare"/);
    expect(refused(prepare as unknown as Record<string, unknown>)).toThrow(NotAllowedError);
  });

  it('runs an admitted pod in its own engine within the reservation, and tells its phase, log and outputs', async () => {
    const { engine, ask } = executing((id) => (id === RESERVATION ? active : undefined));
    const first = await ask(executor, start(plainPod('echo one; echo two >&2; printf hi > /work/said')));
    expect(['Pending', 'Running', 'Succeeded']).toContain(first.phase);
    let status = first;
    let log = first.logs?.[0]?.text ?? '';
    for (let i = 0; i < 100 && !(status.phase === 'Succeeded' && log.length >= 8); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await ask(executor, { op: 'status', execution: 'e-1', user: 'alice', project: 'survey', logOffsets: { main: Buffer.byteLength(log) } });
      for (const chunk of status.logs ?? []) log += chunk.text;
    }
    expect(status).toMatchObject({ phase: 'Succeeded', outputs: { parameters: [{ name: 'said', value: 'hi' }] } });
    expect(log).toBe('one\ntwo\n');
    // Starting it again attaches to it; the engine shows it as a run of its own, named for the origin's execution.
    expect((await ask(executor, start(plainPod('exit 1')))).phase).toBe('Succeeded');
    const names = (await engine.list()).map((r) => r.name);
    expect(names.filter((n) => n.startsWith('x-'))).toHaveLength(1);
  });

  it('stops the pods it runs for a peer whose peering ended, and leaves the ended ones as they were', async () => {
    const { engine, ask, responder } = executing(() => active);
    await ask(executor, start(plainPod('printf done > /work/said'), 'e-done'));
    const done = executionRunName(origin, 'e-done');
    await engine.wait(done);
    await ask(executor, start(plainPod('sleep 30'), 'e-long'));
    const long = executionRunName(origin, 'e-long');
    expect(['Pending', 'Running']).toContain((await engine.get(long)).phase);

    expect(await responder.stopFor(origin)).toBe(1);
    expect(['Failed', 'Error']).toContain((await engine.get(long)).phase);
    expect((await engine.get(done)).phase).toBe('Succeeded');
    // Another cluster's pods (none here) and a second call stop nothing.
    expect(await responder.stopFor(executor)).toBe(0);
    expect(await responder.stopFor(origin)).toBe(0);
  });

  it('refuses a pod without an active reservation of its user, or bigger than it', async () => {
    const { ask } = executing((id) => (id === RESERVATION ? { ...active, state: 'expired' } : undefined));
    await expect(ask(executor, start(plainPod('true'), 'e-2'))).rejects.toThrow(ConflictError);
    await expect(ask(executor, start(plainPod('true'), 'e-2'))).rejects.toThrow(`reservation ${RESERVATION} is expired, not active`);
    const big = plainPod('true');
    big.containerSet!.containers[0]!.resources = { requests: { cpu: '4', memory: '1Gi' } };
    const small = executing(() => active);
    await expect(small.ask(executor, start(big, 'e-3'))).rejects.toThrow(/asks for 4 cores and 1024 MiB, more than reservation .* holds \(1 cores, 512 MiB\)/);
    const unpeered = executing(() => active, false);
    await expect(unpeered.ask(executor, start(plainPod('true'), 'e-4'))).rejects.toThrow(/not peered/);
  });
});

describe("the origin's pods placed on peers", () => {
  const pod = (podDir: string, template: Template, signal = new AbortController().signal) => ({
    runName: 'archipel-0123456789abcdef-1',
    nodeId: 'n1',
    cluster: executor,
    template: { ...template, metadata: { annotations: { 'archipel.io/cwl-step': 'hello' } } } as Template,
    podDir,
    signal,
    progress: () => {},
  });
  const remote = (ask: RemotePodsOptions['ask'], more: Partial<RemotePodsOptions> = {}) =>
    createRemotePods({
      clusterId: () => origin,
      ask,
      context: async () => ({ run: '0123456789abcdef', user: 'alice', project: 'survey', reservationId: RESERVATION, reads: [] }),
      pollIntervalMs: 20,
      ...more,
    });
  const withRoot = (template: Template) => {
    // The run's scope, as the translation's stage and collect containers name it.
    template.containerSet!.containers.push({ name: 'collect', command: ['archipel', 'step', 'collect'], args: ['--store', 's', '--root', 'runs/r1', '--document', 'documents/d'] });
    return template;
  };

  it('follows a pod on the peer to its end, its log written here as it comes', async () => {
    const { ask } = executing(() => active);
    // A pod naming no run scope cannot give a peer access to its run's objects: it is not sent.
    const unscoped = await remote(ask).run(pod(join(root, 'origin-pod-1'), plainPod('true')));
    expect(unscoped).toMatchObject({ phase: 'Error', message: expect.stringMatching(/names no run scope/) });

    // The peer's engine runs no `archipel` command in this test: the scope-naming container stops on the way.
    const withoutArchipel: RemotePodsOptions['ask'] = (cluster, body, signal) => {
      const sent = body.template as { containerSet?: { containers: { command?: string[] }[] } } | undefined;
      if (sent?.containerSet) sent.containerSet.containers = sent.containerSet.containers.filter((c) => c.command?.[0] !== 'archipel');
      return ask(cluster, body, signal);
    };
    const podDir = join(root, 'origin-pod-2');
    const result = await remote(withoutArchipel).run(pod(podDir, withRoot(plainPod('echo from the peer; sleep 0.2; echo still there; printf ok > /work/said'))));
    expect(result).toMatchObject({ phase: 'Succeeded', outputs: { parameters: [{ name: 'said', value: 'ok' }] } });
    expect(readFileSync(podLogFile(podDir, 'main'), 'utf8')).toBe('from the peer\nstill there\n');
  });

  it('places a pod again when its cluster stops answering, or fails naming the cluster', async () => {
    const silent: RemotePodsOptions['ask'] = async () => {
      throw new UnavailableError('no connection');
    };
    const lost: string[] = [];
    const here = await remote(silent, {
      unreachableMs: 100,
      replace: async (_run, cluster) => {
        lost.push(cluster);
        return { cluster: origin };
      },
    }).run(pod(join(root, 'origin-pod-3'), withRoot(plainPod('true'))));
    expect(here).toBe('here');
    expect(lost).toEqual([executor]);

    const failed = await remote(silent, {
      unreachableMs: 100,
      replace: async () => {
        throw new ConflictError(`step hello is pinned to cluster ${executor}: it is not placed elsewhere`);
      },
    }).run(pod(join(root, 'origin-pod-4'), withRoot(plainPod('true'))));
    expect(failed).toMatchObject({ phase: 'Error' });
    expect((failed as { message: string }).message).toMatch(new RegExp(`^cluster ${executor} did not answer for 0 s while running step hello .*; step hello is pinned to cluster ${executor}`));
  });

  it('lets a peer read and write only the objects of the run it runs a pod of, while it runs it', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const pods = remote(async () => {
      await blocked;
      return { phase: 'Succeeded' };
    });
    const running = pods.run(pod(join(root, 'origin-pod-5'), withRoot(plainPod('true'))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const execution = executionId('archipel-0123456789abcdef-1', 'n1', executor);
    await expect(pods.authorize(executor, execution, 'runs/r1/hello/0/outputs.json', 'write')).resolves.toBeUndefined();
    await expect(pods.authorize(executor, execution, 'documents/d', 'read')).resolves.toBeUndefined();
    await expect(pods.authorize(executor, execution, 'documents/d', 'write')).rejects.toThrow(NotAllowedError);
    await expect(pods.authorize(executor, execution, 'runs/r2/x', 'read')).rejects.toThrow(NotAllowedError);
    await expect(pods.authorize(origin, execution, 'runs/r1/x', 'read')).rejects.toThrow(NotAllowedError);
    release();
    await running;
    await expect(pods.authorize(executor, execution, 'runs/r1/x', 'read')).rejects.toThrow(NotAllowedError);
  });
});
