import type { ArrayType, CwlType } from '../model.ts';
import { isFsObject } from './file-objects.ts';

const isRecordValue = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** CWL's int is 32-bit, as Avro's (and the reference runner's schema-salad) is. */
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
/**
 * CWL's long is 64-bit, but a JavaScript number holds integers exactly only up to 2^53 − 1: a larger
 * one has already lost digits when it was parsed, so it is refused rather than passed on changed.
 */
const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX;
const isLong = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);

/** Whether a value conforms to a CWL type (after File/Directory resolution). */
export function conforms(value: unknown, type: CwlType): boolean {
  if (Array.isArray(type)) return type.some((t) => conforms(value, t));
  if (typeof type === 'string') {
    switch (type) {
      case 'null':
        return value === null || value === undefined;
      case 'boolean':
        return typeof value === 'boolean';
      case 'int':
        return isInt(value);
      case 'long':
        return isLong(value);
      case 'float':
      case 'double':
        return typeof value === 'number';
      case 'string':
        return typeof value === 'string';
      case 'File':
      case 'Directory':
        return isFsObject(value) && value.class === type;
      case 'Any':
        return value !== null && value !== undefined;
    }
  }
  switch (type.type) {
    case 'array':
      return Array.isArray(value) && value.every((v) => conforms(v, type.items));
    case 'enum':
      return typeof value === 'string' && type.symbols.includes(value.replace(/^.*[#/]/, ''));
    case 'record':
      return isRecordValue(value) && !isFsObject(value) && type.fields.every((f) => conforms(value[f.name] ?? null, f.type));
  }
}

/** The first branch of a (possibly union) type that a value conforms to. */
export function matchingType(value: unknown, type: CwlType): CwlType | undefined {
  if (Array.isArray(type)) {
    for (const t of type) {
      const m = matchingType(value, t);
      if (m !== undefined) return m;
    }
    return undefined;
  }
  return conforms(value, type) ? type : undefined;
}

export function describeType(type: CwlType): string {
  if (Array.isArray(type)) return type.map(describeType).join(' | ');
  if (typeof type === 'string') return type;
  if (type.type === 'array') return `${describeType(type.items)}[]`;
  if (type.type === 'enum') return `enum(${type.symbols.join(', ')})`;
  return type.name ? `record ${type.name}` : 'record';
}

export const allowsNull = (type: CwlType): boolean => conforms(null, type);

/**
 * Why a value does not conform to a type, for messages: a number refused by int or long says which
 * rule it breaks (with where in an array it is), anything else what was expected and what came.
 */
export function describeMismatch(value: unknown, type: CwlType): string {
  const branches = Array.isArray(type) ? type : [type];
  if (typeof value === 'number' && !branches.some((t) => t === 'float' || t === 'double' || t === 'Any')) {
    const shown = String(value);
    if (branches.includes('long')) {
      if (!Number.isInteger(value)) return `${shown} is not a long (a whole number)`;
      return `${shown} is not a long that can be carried exactly (at most ±2^53−1, Number.MAX_SAFE_INTEGER, of the 64-bit range)`;
    }
    if (branches.includes('int')) return Number.isInteger(value) ? `${shown} is not an int (−2^31..2^31−1)` : `${shown} is not an int (a whole number)`;
  }
  const arrays = branches.filter((t): t is ArrayType => typeof t === 'object' && !Array.isArray(t) && t.type === 'array');
  if (Array.isArray(value) && arrays.length === 1) {
    const index = value.findIndex((v) => !conforms(v, arrays[0]!.items));
    if (index >= 0 && typeof value[index] === 'number') return `[${index}]: ${describeMismatch(value[index], arrays[0]!.items)}`;
  }
  return `expected ${describeType(type)}, got ${JSON.stringify(value)?.slice(0, 120)}`;
}

/** Visits every File and Directory in a value (including listings and secondary files). */
export function visitFsObjects(value: unknown, visit: (obj: Record<string, unknown>) => void) {
  if (Array.isArray(value)) value.forEach((v) => visitFsObjects(v, visit));
  else if (isFsObject(value)) {
    visit(value);
    if (Array.isArray(value.secondaryFiles)) visitFsObjects(value.secondaryFiles, visit);
    if (Array.isArray(value.listing)) visitFsObjects(value.listing, visit);
  } else if (isRecordValue(value)) Object.values(value).forEach((v) => visitFsObjects(v, visit));
}
