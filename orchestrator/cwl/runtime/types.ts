import type { CwlType } from '../model.ts';
import { isFsObject } from './file-objects.ts';

const isRecordValue = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

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
      case 'long':
        return typeof value === 'number' && Number.isInteger(value);
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

/** Visits every File and Directory in a value (including listings and secondary files). */
export function visitFsObjects(value: unknown, visit: (obj: Record<string, unknown>) => void) {
  if (Array.isArray(value)) value.forEach((v) => visitFsObjects(v, visit));
  else if (isFsObject(value)) {
    visit(value);
    if (Array.isArray(value.secondaryFiles)) visitFsObjects(value.secondaryFiles, visit);
    if (Array.isArray(value.listing)) visitFsObjects(value.listing, visit);
  } else if (isRecordValue(value)) Object.values(value).forEach((v) => visitFsObjects(v, visit));
}
