import { availableParallelism, totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/index.ts';
import { createMachineCapacitySource, createStaticCapacitySource } from './capacity-source.ts';

describe('capacity sources', () => {
  it('offers this machine’s cores and memory, and no GPUs unless configured', async () => {
    expect(await createMachineCapacitySource().capacity()).toEqual({
      cores: availableParallelism(),
      memoryMiB: Math.floor(totalmem() / 1024 / 1024),
      gpus: 0,
    });
    expect(await createMachineCapacitySource({ gpus: 2, cores: 1.5 }).capacity()).toMatchObject({ cores: 1.5, gpus: 2 });
  });

  it('offers a configured capacity', async () => {
    expect(await createStaticCapacitySource({ cores: 8, memoryMiB: 1024, gpus: 1 }).capacity()).toEqual({
      cores: 8,
      memoryMiB: 1024,
      gpus: 1,
    });
  });

  it('rejects a bad configuration at once, naming each field', () => {
    const attempt = () => createStaticCapacitySource({ cores: -1, memoryMiB: 1.5, gpus: 0 });
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(/cores: must not be negative; memoryMiB: must be a whole number of MiB/);
    expect(() => createMachineCapacitySource({ gpus: 0.5 })).toThrow(/gpus: must be a whole number/);
  });
});
