import { createReadStream, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidInputError } from '../../core/index.ts';
import { mapFsObjects, mapNestedFields } from '../../orchestrator/index.ts';
import type { NodeClient } from './node-client.ts';

export interface UploadedFile {
  id: string;
  name: string;
  size: number;
  location: string;
}

/** Streams one local file to the node (`POST /files`). */
export async function uploadFile(client: NodeClient, file: string, options: { name?: string; project?: string } = {}): Promise<UploadedFile> {
  const name = options.name ?? path.basename(file);
  const query = new URLSearchParams({ name, ...(options.project ? { project: options.project } : {}) });
  const body = Readable.toWeb(createReadStream(file)) as unknown as RequestInit['body'];
  const response = await client.request('POST', `/files?${query}`, { body, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(statSync(file).size) } });
  return (await response.json()) as UploadedFile;
}

/**
 * The job with its local files uploaded: each File's location becomes the uploaded file's, each local
 * Directory a listing of its uploaded files (locations relative to `jobDir`). `onUpload` reports progress.
 */
export async function uploadJobFiles(
  client: NodeClient,
  job: Record<string, unknown>,
  jobDir: string,
  /** `uploaded`: files already uploaded (by path and name), shared between calls so that none goes twice. */
  options: { project?: string; onUpload?: (file: string, uploaded: UploadedFile) => void; uploaded?: Map<string, UploadedFile> } = {},
): Promise<Record<string, unknown>> {
  const localPath = (obj: Record<string, unknown>): string | undefined => {
    const location = obj.location ?? obj.path;
    if (typeof location !== 'string' || location.startsWith('archipel:')) return undefined;
    if (location.startsWith('file://')) return fileURLToPath(location);
    if (/^[a-z][a-z0-9+.-]*:/i.test(location)) throw new InvalidInputError(`${location}: only local files are uploaded; download it first`);
    return path.resolve(jobDir, location);
  };
  const upload = async (file: string, basename?: string) => {
    const key = `${file}\0${basename ?? ''}`;
    const earlier = options.uploaded?.get(key);
    if (earlier) return earlier;
    const uploaded = await uploadFile(client, file, { ...(basename ? { name: basename } : {}), ...(options.project ? { project: options.project } : {}) });
    options.onUpload?.(file, uploaded);
    options.uploaded?.set(key, uploaded);
    return uploaded;
  };
  const directory = async (dir: string, basename: string): Promise<Record<string, unknown>> => {
    const listing: Record<string, unknown>[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (statSync(full).isDirectory()) listing.push(await directory(full, entry.name));
      else listing.push({ class: 'File', basename: entry.name, location: (await upload(full, entry.name)).location });
    }
    return { class: 'Directory', basename, listing };
  };
  return mapFsObjects(job, async (value, nested) => {
    const local = localPath(value);
    const { path: _path, location: _location, ...rest } = value;
    if (local === undefined) return { ...value, ...(await mapNestedFields(value, nested)) };
    const basename = typeof value.basename === 'string' ? value.basename : path.basename(local);
    if (value.class === 'Directory') return { ...rest, ...(await directory(local, basename)) };
    const out: Record<string, unknown> = { ...rest, location: (await upload(local, basename)).location, basename };
    if (Array.isArray(value.secondaryFiles)) out.secondaryFiles = await nested(value.secondaryFiles);
    return out;
  });
}

/** Whether a location names something on the node (an upload, a catalog entry) rather than a local file. */
const onTheNode = (location: unknown) => typeof location === 'string' && location.startsWith('archipel:');

/**
 * Runs `prepare` (the local completion of a job) with the Files and Directories that name something on
 * the node (`archipel:files/...`, `archipel:catalog/...`) replaced by empty local stand-ins under `dir`,
 * and puts them back, as given, in what it returns: the node checks and completes those itself.
 */
export async function withNodeLocationsAside<T extends object>(job: T, dir: string, prepare: (job: T) => Promise<T>): Promise<T> {
  const originals = new Map<string, Record<string, unknown>>();
  const aside = await mapFsObjects(job, async (value, nested) => {
    if (!onTheNode(value.location)) return { ...value, ...(await mapNestedFields(value, nested)) };
    const name = path.posix.basename(String(value.location)) || 'node';
    const standIn = path.join(dir, `node-${originals.size}`, name);
    mkdirSync(path.dirname(standIn), { recursive: true });
    if (value.class === 'Directory') mkdirSync(standIn);
    else writeFileSync(standIn, '');
    originals.set(standIn, value);
    return { class: value.class, location: pathToFileURL(standIn).href, ...(typeof value.basename === 'string' ? { basename: value.basename } : {}) };
  });
  const prepared = await prepare(aside);
  if (!originals.size) return prepared;
  return mapFsObjects(prepared, async (value, nested) => {
    const local = typeof value.path === 'string' ? value.path : typeof value.location === 'string' && value.location.startsWith('file://') ? fileURLToPath(value.location) : undefined;
    const original = local !== undefined ? originals.get(local) : undefined;
    return original ?? { ...value, ...(await mapNestedFields(value, nested)) };
  });
}
