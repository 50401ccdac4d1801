import { CoreV1Api, type V1Node } from '@kubernetes/client-node';
import {
  InternalError,
  InvalidInputError,
  ResourceExpiredError,
  UnavailableError,
  isArchipelError,
  systemClock,
  type Clock,
  type InputIssue,
} from '../../core/index.ts';
import {
  isQualifiedName,
  labelSelectorProblem,
  loadKubeConfig,
  requestOptions,
  translateKubernetesError,
  type KubeconfigSource,
} from '../../platform/kubernetes/index.ts';
import type { CapacitySource } from './capacity-source.ts';
import { MAX_UNITS, type ComputeResources } from './compute-resources.ts';
import { MEBIBYTE, MILLICORE, ONE, parseQuantity, wholeUnits, type Quantity } from './kubernetes-quantity.ts';

/** One of `kubeconfigPath`, `kubeconfig` (as data) or `inCluster`, as for the Kubernetes resource store. */
export interface KubernetesCapacitySourceOptions extends KubeconfigSource {
  /** Only the nodes this label selector matches (e.g. `archipel.io/compute=true`); default all nodes. */
  nodeSelector?: string;
  /** The extended resources counted as GPUs (default `nvidia.com/gpu` and `amd.com/gpu`). */
  gpuResources?: readonly string[];
  /** How long one reading of the nodes is reused (default 10 s). */
  cacheTtlMs?: number;
  /** How long listing the nodes may take before the source is unavailable (default 10 s). */
  timeoutMs?: number;
  clock?: Clock;
}

export const DEFAULT_GPU_RESOURCES: readonly string[] = Object.freeze(['nvidia.com/gpu', 'amd.com/gpu']);
const DEFAULT_CACHE_TTL_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const PAGE_SIZE = 500;

/**
 * The capacity of a Kubernetes cluster: the sum of `status.allocatable` over its nodes that are Ready
 * (condition `Ready` is `True`) and schedulable (not cordoned), optionally only those a label selector
 * matches: `cpu` as cores, `memory` as MiB, and the GPU resources as GPUs, each node's amount rounded
 * down. Nodes are listed (in pages) through `CoreV1Api.listNode`; a reading is reused for `cacheTtlMs`, and
 * concurrent callers share one listing, so that a burst of reservations lists the nodes once. Failures
 * are core errors: unreachable or 5xx → `UnavailableError`, and so are 401 and 403 (the node's own
 * credentials, which need `list` on `nodes`, were refused, not the caller's). The options are checked at once.
 */
export function createKubernetesCapacitySource(options: KubernetesCapacitySourceOptions): CapacitySource {
  const gpuResources = [...new Set(options.gpuResources ?? DEFAULT_GPU_RESOURCES)];
  const cacheTtlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = options.clock ?? systemClock;
  const { nodeSelector } = options;

  const issues: InputIssue[] = [];
  const selectorProblem = nodeSelector === undefined ? undefined : labelSelectorProblem(nodeSelector);
  if (selectorProblem) issues.push({ path: 'nodeSelector', message: selectorProblem });
  gpuResources.forEach((name, i) => {
    if (!isQualifiedName(name)) issues.push({ path: `gpuResources.${i}`, message: 'must be a resource name such as nvidia.com/gpu' });
  });
  if (!(Number.isFinite(cacheTtlMs) && cacheTtlMs >= 0)) issues.push({ path: 'cacheTtlMs', message: 'must be a number of milliseconds, 0 or more' });
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) issues.push({ path: 'timeoutMs', message: 'must be a positive number of milliseconds' });
  if (issues.length) {
    throw new InvalidInputError(`invalid Kubernetes capacity source: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const api = loadKubeConfig(options).makeApiClient(CoreV1Api);

  let cached: { readAt: number; capacity: ComputeResources } | undefined;
  let reading: Promise<ComputeResources> | undefined;

  /** Lists every node (a continue token that expired restarts the listing) and sums what they offer. */
  async function read(): Promise<ComputeResources> {
    const signal = AbortSignal.timeout(timeoutMs);
    for (let attempt = 1; ; attempt++) {
      try {
        const total = { millicores: 0n, memoryMiB: 0n, gpus: 0n };
        let token: string | undefined;
        do {
          const page = await listNodes(signal, token);
          for (const node of page.items) {
            const offered = offeredBy(node, gpuResources);
            total.millicores += offered.millicores;
            total.memoryMiB += offered.memoryMiB;
            total.gpus += offered.gpus;
          }
          token = page.metadata?._continue || undefined;
        } while (token);
        // Beyond what the ledger counts (2^31 - 1 of each unit), offer that much rather than fail.
        const capped = (units: bigint) => Number(units > BigInt(MAX_UNITS) ? BigInt(MAX_UNITS) : units);
        return { cores: capped(total.millicores) / 1000, memoryMiB: capped(total.memoryMiB), gpus: capped(total.gpus) };
      } catch (error) {
        if (!(error instanceof ResourceExpiredError) || attempt === 3) throw error;
      }
    }
  }

  async function listNodes(signal: AbortSignal, token: string | undefined) {
    try {
      return await api.listNode({ labelSelector: nodeSelector, limit: PAGE_SIZE, _continue: token }, requestOptions(signal));
    } catch (error) {
      if (signal.aborted) {
        throw new UnavailableError(`the Kubernetes API did not list the nodes within ${timeoutMs / 1000} s`, { cause: error });
      }
      const translated = translateKubernetesError(error);
      // The node's own credentials were refused: the caller's are fine, the service is not (503, not 401/403).
      if (isArchipelError(translated) && (translated.kind === 'not-authenticated' || translated.kind === 'not-allowed')) {
        throw new UnavailableError(
          `this node may not list the Kubernetes nodes (${translated.message}): give its service account the ClusterRole in docs/providers.md`,
          { cause: error },
        );
      }
      throw translated;
    }
  }

  return {
    async capacity(capacityOptions) {
      const signal = capacityOptions?.signal;
      signal?.throwIfAborted();
      const now = clock.now().getTime();
      if (cached && now - cached.readAt < cacheTtlMs) return { ...cached.capacity };
      // One listing at a time, shared by everyone who asks meanwhile; not tied to any one caller's signal.
      reading ??= read()
        .then((capacity) => {
          cached = { readAt: now, capacity };
          return capacity;
        })
        .finally(() => {
          reading = undefined;
        });
      return { ...(await untilAborted(reading, signal)) };
    },
  };
}

/** What one node offers in whole units, or nothing when it is not Ready, cordoned, or has no allocatable. */
function offeredBy(node: V1Node, gpuResources: readonly string[]): { millicores: bigint; memoryMiB: bigint; gpus: bigint } {
  const ready = node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
  if (!ready || node.spec?.unschedulable === true) return { millicores: 0n, memoryMiB: 0n, gpus: 0n };
  const allocatable = node.status?.allocatable ?? {};
  const amount = (resource: string, unit: Quantity): bigint => {
    const text = allocatable[resource];
    if (text === undefined) return 0n;
    const where = `node ${JSON.stringify(node.metadata?.name ?? '')}: status.allocatable[${JSON.stringify(resource)}]`;
    let quantity: Quantity;
    try {
      quantity = parseQuantity(text);
    } catch (error) {
      throw new InternalError(`${where}: ${(error as Error).message}`, { cause: error, details: { node: node.metadata?.name, resource } });
    }
    if (quantity.numerator < 0n) {
      throw new InternalError(`${where}: ${JSON.stringify(text)} is negative`, { details: { node: node.metadata?.name, resource } });
    }
    return wholeUnits(quantity, unit);
  };
  return {
    millicores: amount('cpu', MILLICORE),
    memoryMiB: amount('memory', MEBIBYTE),
    gpus: gpuResources.reduce((sum, resource) => sum + amount(resource, ONE), 0n),
  };
}

/** The promise's outcome, or the caller's abort reason as soon as its signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
