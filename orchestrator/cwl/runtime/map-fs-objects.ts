import { isFsObject, type FsObject } from './file-objects.ts';

/** Maps the values nested in a File or Directory (its secondaryFiles, listing) the same way; `field` names where they stand. */
export type MapNested = (value: unknown, field?: string) => Promise<unknown>;

/**
 * Rebuilds a CWL value (an input or output object, or any part of one) with each File and Directory
 * replaced by what `replace` makes of it; everything else is copied. Objects are visited one at a time,
 * in order, so that `replace` may number what it writes. `replace` gets `nested` to map the objects a
 * File or Directory holds (`secondaryFiles`, `listing`) when it keeps them, and `at`, where the object
 * stands in the value (`.reads.0`; empty for the value itself), for messages.
 */
export async function mapFsObjects<T>(value: T, replace: (obj: FsObject, nested: MapNested, at: string) => Promise<unknown>): Promise<T> {
  const visit = async (v: unknown, at: string): Promise<unknown> => {
    if (Array.isArray(v)) {
      const out = [];
      for (const [i, item] of v.entries()) out.push(await visit(item, `${at}.${i}`));
      return out;
    }
    if (isFsObject(v)) return replace(v, (inner, field) => visit(inner, field === undefined ? at : `${at}.${field}`), at);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = await visit(item, `${at}.${k}`);
      return out;
    }
    return v;
  };
  return (await visit(value, '')) as T;
}

/** The `secondaryFiles` and `listing` of an object, mapped with `nested`, for spreading into its copy. */
export async function mapNestedFields(obj: FsObject, nested: MapNested): Promise<Partial<Record<'secondaryFiles' | 'listing', unknown>>> {
  return {
    ...(Array.isArray(obj.secondaryFiles) ? { secondaryFiles: await nested(obj.secondaryFiles, 'secondaryFiles') } : {}),
    ...(Array.isArray(obj.listing) ? { listing: await nested(obj.listing, 'listing') } : {}),
  };
}
