import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { InvalidInputError } from '../../core/index.ts';
import { mapFsObjects, mapNestedFields } from '../cwl/runtime/map-fs-objects.ts';
import { objectLocation } from '../steps/store-files.ts';
import { uploadedFileId, type FileService, type RunCaller } from './file-service.ts';

/**
 * A job location naming a data catalog entry, or a file or directory inside it: this cluster's as
 * `archipel:catalog/<entry>[/<path>]`, a peered cluster's as `archipel:catalog/<cluster>/<entry>[/<path>]`.
 */
export const CATALOG_LOCATION_PREFIX = 'archipel:catalog/';
const ENTRY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLUSTER_ID = /^[1-9A-HJ-NP-Za-km-z]{20,128}$/;

/** A data entry (and its cluster, for a peer's) and the path in it that a location names. */
export interface CatalogLocation {
  entryId: string;
  cluster?: string;
  relative: string;
}

/** The entry and relative path a catalog location names; a path that climbs out (`..`) or is absolute is refused. */
export function catalogLocation(location: unknown, at: string): CatalogLocation | undefined {
  if (typeof location !== 'string' || !location.startsWith(CATALOG_LOCATION_PREFIX)) return undefined;
  const parts = location.slice(CATALOG_LOCATION_PREFIX.length).replace(/\/+$/, '').split('/');
  const cluster = parts.length > 1 && !ENTRY_ID.test(parts[0]!) && CLUSTER_ID.test(parts[0]!) ? parts.shift() : undefined;
  const entryId = parts.shift() ?? '';
  if (!ENTRY_ID.test(entryId) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new InvalidInputError(
      `${at}: ${JSON.stringify(location)} is not a catalog location: write archipel:catalog/<entry id>[/<path inside it>], or archipel:catalog/<cluster id>/<entry id>[/<path>] for a peered cluster's entry`,
      [{ path: at, message: 'invalid catalog location' }],
    );
  }
  return { entryId, ...(cluster ? { cluster } : {}), relative: parts.join('/') };
}

/** Local copies of data catalog entries' files for a submission: the local path of `relative` in the entry. */
export type DataFiles = (location: CatalogLocation, at: string) => Promise<string>;

/**
 * Points the File objects of a submitted job at the uploads they name (`archipel:files/<id>`, which the
 * caller must be allowed to use) in the node's object store, and File and Directory objects naming a data
 * catalog entry (`archipel:catalog/...`, when `data` is given) at the local copy `data` makes. Every other
 * location is refused: the node does not read its own disk or the network for a user's job. Literals
 * (`contents`, `listing`) stay.
 */
export async function resolveJobFiles<T extends object>(caller: RunCaller, job: T, files: Pick<FileService, 'get'>, signal?: AbortSignal, what = 'job', data?: DataFiles): Promise<T> {
  return mapFsObjects(job, async (value, nested, where) => {
    const at = `${what}${where}`;
    const out: Record<string, unknown> = { ...value };
    const location = value.location ?? value.path;
    const fromCatalog = data ? catalogLocation(location, at) : undefined;
    if (fromCatalog) {
      const local = await data!(fromCatalog, at);
      out.location = pathToFileURL(local).href;
      delete out.path;
      if (out.basename === undefined) out.basename = path.basename(local);
    } else if (location !== undefined) {
      const id = uploadedFileId(location);
      if (id === undefined || value.class !== 'File') {
        throw new InvalidInputError(
          `${at}: location ${JSON.stringify(location)} is not a file uploaded to this node (POST /api/v1/files answers its "archipel:files/<id>" location) or a data catalog entry (archipel:catalog/<entry id>[/<path>]); a Directory is given by its listing or by a data entry`,
          [{ path: at, message: 'not an uploaded file or a data entry' }],
        );
      }
      let file;
      try {
        file = await files.get(caller, id, { signal });
      } catch (error) {
        throw new InvalidInputError(`${at}: no uploaded file "${id}" that you may use`, [{ path: at, message: 'unknown file' }], { cause: error });
      }
      out.location = objectLocation(file.objectKey);
      delete out.path;
      if (out.basename === undefined) out.basename = file.name;
    }
    return { ...out, ...(await mapNestedFields(value, nested)) };
  });
}
