import type { Process, Requirement } from '../model.ts';

/** A requirement of the process (requirements win over hints), or undefined. */
export function findRequirement(process: Pick<Process, 'requirements' | 'hints'>, cls: string): Requirement | undefined {
  return process.requirements.find((r) => r.class === cls) ?? process.hints.find((r) => r.class === cls);
}

/** Every requirement class of CWL v1.2; unknown ones in `requirements` cannot be met. */
export { CWL_REQUIREMENT_CLASSES as KNOWN_REQUIREMENTS } from '../model.ts';
