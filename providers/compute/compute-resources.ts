import { InvalidInputError, type InputIssue } from '../../core/index.ts';

/**
 * An amount of compute: cores (fractions allowed, to the thousandth, as Kubernetes' `500m`), memory in
 * MiB and whole GPUs. This is the shape of capacity, quotas and reservations at every boundary.
 */
export interface ComputeResources {
  cores: number;
  memoryMiB: number;
  gpus: number;
}

/** The same amount in the ledger's exact integer units: CPU in millicores. */
export interface ResourceUnits {
  millicores: number;
  memoryMiB: number;
  gpus: number;
}

export type ResourceName = keyof ResourceUnits;
export const RESOURCE_NAMES: readonly ResourceName[] = ['millicores', 'memoryMiB', 'gpus'];

/** The largest amount of any one resource (fits the ledger's 32-bit integer columns). */
export const MAX_UNITS = 2 ** 31 - 1;

export const ZERO_UNITS: ResourceUnits = Object.freeze({ millicores: 0, memoryMiB: 0, gpus: 0 });

export function toUnits(resources: ComputeResources): ResourceUnits {
  return { millicores: Math.round(resources.cores * 1000), memoryMiB: resources.memoryMiB, gpus: resources.gpus };
}

export function fromUnits(units: ResourceUnits): ComputeResources {
  return { cores: units.millicores / 1000, memoryMiB: units.memoryMiB, gpus: units.gpus };
}

/** How a resource is named in messages, with its amount in the caller's units. */
export function describeAmount(resource: ResourceName, units: number): string {
  switch (resource) {
    case 'millicores':
      return `${units / 1000} ${units === 1000 ? 'core' : 'cores'}`;
    case 'memoryMiB':
      return `${units} MiB of memory`;
    case 'gpus':
      return `${units} ${units === 1 ? 'GPU' : 'GPUs'}`;
  }
}

/** The caller-facing field of a resource (`cores`, `memoryMiB`, `gpus`). */
export function fieldOf(resource: ResourceName): keyof ComputeResources {
  return resource === 'millicores' ? 'cores' : resource;
}

/**
 * The problems with an amount of resources, each naming its field under `prefix`: not a finite number,
 * negative, a fraction finer than a millicore, a fractional MiB or GPU, or too large.
 */
export function resourceIssues(resources: Partial<ComputeResources>, prefix = ''): InputIssue[] {
  const issues: InputIssue[] = [];
  const check = (field: keyof ComputeResources, value: unknown, scale: number, what: string) => {
    const path = `${prefix}${field}`;
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      issues.push({ path, message: 'must be a number' });
    } else if (value < 0) {
      issues.push({ path, message: 'must not be negative' });
    } else if (Math.abs(value * scale - Math.round(value * scale)) > 1e-6) {
      issues.push({ path, message: `must be ${what}` });
    } else if (Math.round(value * scale) > MAX_UNITS) {
      issues.push({ path, message: `must be at most ${MAX_UNITS / scale}` });
    }
  };
  check('cores', resources.cores, 1000, 'a whole number of thousandths of a core (0.001 = 1m)');
  check('memoryMiB', resources.memoryMiB, 1, 'a whole number of MiB');
  check('gpus', resources.gpus, 1, 'a whole number');
  return issues;
}

/** Validates an amount given by configuration or a caller; throws `InvalidInputError` naming each field. */
export function parseResources(resources: Partial<ComputeResources>, what: string, prefix = ''): ResourceUnits {
  const issues = resourceIssues(resources, prefix);
  if (issues.length) {
    throw new InvalidInputError(`invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return toUnits({ cores: resources.cores ?? 0, memoryMiB: resources.memoryMiB ?? 0, gpus: resources.gpus ?? 0 });
}
