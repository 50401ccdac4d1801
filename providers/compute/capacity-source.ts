import { availableParallelism, totalmem } from 'node:os';
import type { ComputeResources } from './compute-resources.ts';
import { parseResources } from './compute-resources.ts';

/**
 * Where a compute provider's capacity comes from: this machine (embedded mode), a fixed amount, or the
 * Kubernetes nodes' allocatable capacity (`kubernetes-capacity-source.ts`). Read at every reservation,
 * so a capacity that changes (nodes joining or leaving) is taken into account from the next request on.
 */
export interface CapacitySource {
  capacity(options?: { signal?: AbortSignal }): Promise<ComputeResources>;
}

export interface MachineCapacityOptions {
  /** GPUs offered (default 0: GPUs are never detected, only configured). */
  gpus?: number;
  /** Cores offered instead of `os.availableParallelism()` (fractions to the thousandth). */
  cores?: number;
  /** Memory offered in MiB instead of `os.totalmem()`. */
  memoryMiB?: number;
}

/**
 * The embedded capacity source: this machine's cores (`os.availableParallelism()`) and total memory,
 * unless configured otherwise, and the configured GPUs. The options are validated when it is created.
 */
export function createMachineCapacitySource(options: MachineCapacityOptions = {}): CapacitySource {
  parseResources(options, 'machine capacity');
  return {
    async capacity(capacityOptions) {
      capacityOptions?.signal?.throwIfAborted();
      return {
        cores: options.cores ?? availableParallelism(),
        memoryMiB: options.memoryMiB ?? Math.floor(totalmem() / (1024 * 1024)),
        gpus: options.gpus ?? 0,
      };
    },
  };
}

/** A fixed capacity (configured by an operator, or in tests). Validated when it is created. */
export function createStaticCapacitySource(capacity: ComputeResources): CapacitySource {
  parseResources(capacity, 'capacity');
  const frozen = Object.freeze({ ...capacity });
  return {
    async capacity(capacityOptions) {
      capacityOptions?.signal?.throwIfAborted();
      return { ...frozen };
    },
  };
}
