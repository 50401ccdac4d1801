import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  InternalError,
  InvalidInputError,
  UnavailableError,
  type SqlDatabase,
} from '../../core/index.ts';
import {
  kubeconfigFor,
  startKubernetesApiDouble,
  type KubernetesApiDouble,
  type NodeObject,
} from '../../platform/resource-store/kubernetes-api-double.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createComputeLedger } from './compute-ledger.ts';
import { createKubernetesCapacitySource, type KubernetesCapacitySourceOptions } from './kubernetes-capacity-source.ts';

const TOKEN = 'node-reader';
const NODES = '/api/v1/nodes';

interface NodeShape {
  ready?: boolean | 'Unknown';
  unschedulable?: boolean;
  labels?: Record<string, string>;
}
/** A node as the kubelet reports it: allocatable below capacity, a few conditions. */
function node(name: string, allocatable: Record<string, string>, shape: NodeShape = {}): NodeObject {
  const ready = shape.ready ?? true;
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...shape.labels } },
    spec: { podCIDR: '10.244.0.0/24', ...(shape.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: { ...allocatable, pods: '110' },
      allocatable: { ...allocatable, pods: '110' },
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: ready === 'Unknown' ? 'Unknown' : ready ? 'True' : 'False', reason: 'KubeletReady' },
      ],
    },
  };
}
const worker = (name: string, cpu = '4', memory = '16Gi', shape?: NodeShape) => node(name, { cpu, memory, 'ephemeral-storage': '100Gi' }, shape);

let double: KubernetesApiDouble;
let now: number;
const clock = { now: () => new Date(now) };
const source = (options: Partial<KubernetesCapacitySourceOptions> = {}) =>
  createKubernetesCapacitySource({ kubeconfig: kubeconfigFor(double, { token: TOKEN }), clock, ...options });
const listRequests = () => double.requests.filter((r) => r.method === 'GET' && r.path === NODES);

beforeEach(async () => {
  double = await startKubernetesApiDouble({ token: TOKEN });
  now = Date.parse('2030-03-01T08:00:00.000Z');
});
afterEach(() => double.close());

describe('Kubernetes capacity source', () => {
  it('offers the allocatable capacity of the Ready, schedulable nodes, listed through the API', async () => {
    double.setNodes([
      worker('a', '4', '16Gi'),
      worker('b', '3500m', '8Gi'),
      worker('down', '8', '32Gi', { ready: false }),
      worker('unknown', '8', '32Gi', { ready: 'Unknown' }),
      worker('cordoned', '8', '32Gi', { unschedulable: true }),
      { metadata: { name: 'new' }, status: { allocatable: { cpu: '8', memory: '32Gi' } } }, // no conditions yet
    ]);
    expect(await source().capacity()).toEqual({ cores: 7.5, memoryMiB: 24576, gpus: 0 });
    expect(listRequests().map((r) => r.query)).toEqual([{ limit: '500' }]);
  });

  it('reads every form of quantity, and GPUs from the configured resources', async () => {
    double.setNodes([
      node('gpu-1', { cpu: '0.5', memory: '1G', 'nvidia.com/gpu': '2' }),
      node('gpu-2', { cpu: '1', memory: '500M', 'amd.com/gpu': '1' }),
      node('tpu', { cpu: '2', memory: '1e9', 'example.com/tpu': '4' }),
      node('big', { cpu: '250m', memory: '128974848k' }),
      node('exact', { cpu: '1', memory: '17179869184' }),
      node('mi', { cpu: '1', memory: '16384Mi' }),
    ]);
    // 953 + 476 + 953 + 123000 + 16384 + 16384 MiB, each node rounded down on its own.
    expect(await source().capacity()).toEqual({ cores: 5.75, memoryMiB: 158150, gpus: 3 });
    expect(await source({ gpuResources: ['example.com/tpu', 'nvidia.com/gpu'] }).capacity()).toMatchObject({ gpus: 6 });
  });

  it('counts only the nodes the selector matches', async () => {
    double.setNodes([
      worker('cp', '2', '4Gi', { labels: { 'node-role.kubernetes.io/control-plane': '' } }),
      worker('w1', '4', '16Gi', { labels: { 'archipel.io/compute': 'true' } }),
      worker('w2', '8', '32Gi', { labels: { 'archipel.io/compute': 'false' } }),
    ]);
    expect(await source({ nodeSelector: 'archipel.io/compute=true' }).capacity()).toEqual({ cores: 4, memoryMiB: 16384, gpus: 0 });
    expect(await source({ nodeSelector: '!node-role.kubernetes.io/control-plane' }).capacity()).toEqual({ cores: 12, memoryMiB: 49152, gpus: 0 });
    expect(listRequests().map((r) => r.query.labelSelector)).toEqual(['archipel.io/compute=true', '!node-role.kubernetes.io/control-plane']);
  });

  it('lists a large cluster in pages, and counts each node once', async () => {
    double.setNodes(Array.from({ length: 1203 }, (_, i) => worker(`node-${String(i).padStart(4, '0')}`, '2', '4Gi')));
    expect(await source().capacity()).toEqual({ cores: 2406, memoryMiB: 1203 * 4096, gpus: 0 });
    const pages = listRequests();
    expect(pages).toHaveLength(3);
    expect(pages.map((r) => r.query.limit)).toEqual(['500', '500', '500']);
    expect(pages[0]!.query.continue).toBeUndefined();
    expect(pages[1]!.query.continue).toEqual(expect.any(String));
    expect(pages[2]!.query.continue).not.toBe(pages[1]!.query.continue);
  });

  it('lists the nodes once for a burst of requests, and again once the reading is older than its TTL', async () => {
    double.setNodes([worker('a'), worker('b')]);
    const capacity = source({ cacheTtlMs: 10_000 });
    const burst = await Promise.all(Array.from({ length: 200 }, () => capacity.capacity()));
    expect(new Set(burst.map((c) => c.cores))).toEqual(new Set([8]));
    expect(listRequests()).toHaveLength(1);

    double.setNodes([worker('a')]); // b leaves
    now += 9_999;
    expect((await capacity.capacity()).cores).toBe(8); // still the cached reading
    expect(listRequests()).toHaveLength(1);
    now += 1;
    expect((await capacity.capacity()).cores).toBe(4);
    expect(listRequests()).toHaveLength(2);

    double.setNodes([worker('a'), worker('c', '16', '64Gi')]); // c joins
    now += 10_000;
    expect(await capacity.capacity()).toEqual({ cores: 20, memoryMiB: 81920, gpus: 0 });
    expect(listRequests()).toHaveLength(3);
  });

  it('lets one caller give up without failing the others', async () => {
    double.setNodes([worker('a')]);
    const capacity = source();
    const controller = new AbortController();
    const impatient = capacity.capacity({ signal: controller.signal });
    const patient = capacity.capacity();
    controller.abort(new Error('gave up'));
    await expect(impatient).rejects.toThrow('gave up');
    expect((await patient).cores).toBe(4);
    await expect(capacity.capacity({ signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('reports the API server’s failures as core errors, and tries again on the next call', async () => {
    double.setNodes([worker('a')]);
    const capacity = source();
    double.failNext(503);
    const unavailable = await capacity.capacity().catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(UnavailableError);
    expect(unavailable).toMatchObject({ retryable: true, message: 'injected failure 503' });
    expect((await capacity.capacity()).cores).toBe(4); // failures are not cached

    // The node's own credentials refused: unavailable to the API's callers (their own token was fine), naming the fix.
    double.failNext(403);
    now += 60_000;
    const forbidden = await capacity.capacity().catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(UnavailableError);
    expect((forbidden as Error).message).toMatch(/^this node may not list the Kubernetes nodes \(.*\): give its service account the ClusterRole/);

    const wrongToken = createKubernetesCapacitySource({ kubeconfig: kubeconfigFor(double, { token: 'expired' }), clock });
    expect(await wrongToken.capacity().catch((e: unknown) => e)).toBeInstanceOf(UnavailableError);

    await double.close();
    now += 60_000;
    const unreachable = await capacity.capacity().catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(UnavailableError);
    expect((unreachable as Error).message).toMatch(/Kubernetes API unreachable/);
  });

  it('names the node and the field of a quantity it cannot read', async () => {
    double.setNodes([worker('a'), worker('odd', '4', '12 GB')]);
    const error = await source().capacity().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toBe('node "odd": status.allocatable["memory"]: "12 GB" is not a Kubernetes quantity: expected a number with an optional suffix (such as 4, 3500m, 0.5, 16Gi, 500M, 1e9)');
    double.setNodes([node('neg', { cpu: '-1' })]);
    now += 60_000;
    await expect(source().capacity()).rejects.toThrow('node "neg": status.allocatable["cpu"]: "-1" is negative');
  });

  it('rejects bad options at once, naming each', () => {
    const attempt = () => source({ nodeSelector: 'tier in (a', gpuResources: ['nvidia.com/gpu', 'not a resource'], cacheTtlMs: -1 });
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(/nodeSelector: "tier in \(a" is not a label selector requirement.*gpuResources\.1: must be a resource name.*cacheTtlMs: must be/);
    expect(() => createKubernetesCapacitySource({})).toThrow(/exactly one of kubeconfigPath, kubeconfig and inCluster/);
    expect(() => source({ nodeSelector: 'zone in (a, b),!gpu,tier!=x' })).not.toThrow();
  });
});

describe('Kubernetes capacity source, with the ledger', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await createTestDatabase());
  });
  afterAll(() => cleanup());

  it('refuses a reservation once a node has left, and never takes back what is held', async () => {
    double.setNodes([worker('a', '4', '16Gi'), worker('b', '4', '16Gi')]);
    const ledger = createComputeLedger({ db, capacity: source({ cacheTtlMs: 10_000 }), clock, providerId: 'kubernetes' });
    const alice = { kind: 'user' as const, principal: { userId: 'id-alice', userName: 'alice', isAdmin: false, tokenId: 't' } };
    await ledger.reserve(alice, { cores: 6, memoryMiB: 8192, durationSeconds: 3600 });
    expect((await ledger.status()).free).toEqual({ cores: 2, memoryMiB: 24576, gpus: 0 });

    double.setNodes([worker('a', '4', '16Gi')]); // b is drained and removed
    now += 10_000;
    const refused = await ledger.reserve(alice, { cores: 1, durationSeconds: 60 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toMatch(/not enough capacity: 1 core requested, 0 cores free/);
    expect(await ledger.status()).toMatchObject({ capacity: { cores: 4, memoryMiB: 16384 }, inUse: { cores: 6 }, free: { cores: 0 } });
    expect(await ledger.list(alice)).toHaveLength(1);
  });
});
