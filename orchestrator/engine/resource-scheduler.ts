import { InvalidInputError } from '../../core/index.ts';
import { formatCpu, formatMiB } from './quantity.ts';

export interface ResourceRequest {
  /** Cores (0.5 for `500m`). */
  cpu: number;
  memoryMiB: number;
}

export interface ResourceCapacity {
  cores: number;
  memoryMiB: number;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Called once when the request has to wait for others to release resources. */
  onWait?: () => void;
}

export interface ResourceScheduler {
  readonly capacity: ResourceCapacity;
  /** Resolves with a release function once the request fits in what is free. */
  acquire(request: ResourceRequest, options?: AcquireOptions): Promise<() => void>;
  inUse(): ResourceRequest;
}

/** A pod asks for more than this machine has: it could never start. */
export class InsufficientCapacityError extends InvalidInputError {}

/**
 * Admits pods while their requests fit in the machine's cores and memory, as the Kubernetes scheduler
 * does on one node: waiting requests are admitted in arrival order, each one that fits (a large request
 * does not hold back smaller ones behind it).
 */
export function createResourceScheduler(capacity: ResourceCapacity): ResourceScheduler {
  const used: ResourceRequest = { cpu: 0, memoryMiB: 0 };
  const waiting: { request: ResourceRequest; admit: () => void }[] = [];
  // Float sums of millicores drift; compare with a small tolerance.
  const fits = (r: ResourceRequest) =>
    used.cpu + r.cpu <= capacity.cores + 1e-9 && used.memoryMiB + r.memoryMiB <= capacity.memoryMiB + 1e-9;

  const take = (r: ResourceRequest) => {
    used.cpu += r.cpu;
    used.memoryMiB += r.memoryMiB;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      used.cpu -= r.cpu;
      used.memoryMiB -= r.memoryMiB;
      admitWaiting();
    };
  };

  const admitWaiting = () => {
    for (let i = 0; i < waiting.length; ) {
      const w = waiting[i]!;
      if (fits(w.request)) {
        waiting.splice(i, 1);
        w.admit();
      } else i++;
    }
  };

  return {
    capacity,
    inUse: () => ({ ...used }),
    acquire(request, options = {}) {
      const { signal } = options;
      if (request.cpu > capacity.cores || request.memoryMiB > capacity.memoryMiB) {
        return Promise.reject(
          new InsufficientCapacityError(
            `the pod requests ${formatCpu(request.cpu)} cpu and ${formatMiB(request.memoryMiB)} of memory, ` +
              `but this machine has ${formatCpu(capacity.cores)} cores and ${formatMiB(capacity.memoryMiB)}: it can never run here`,
            [],
            { details: { request, capacity } },
          ),
        );
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (fits(request) && waiting.length === 0) return Promise.resolve(take(request));
      return new Promise((resolve, reject) => {
        const entry = {
          request,
          admit: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(take(request));
          },
        };
        const onAbort = () => {
          const i = waiting.indexOf(entry);
          if (i >= 0) waiting.splice(i, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(entry);
        admitWaiting();
        if (waiting.includes(entry)) options.onWait?.();
      });
    },
  };
}
