import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { InvalidInputError } from '../../core/index.ts';
import { mapFsObjects, mapNestedFields } from '../../orchestrator/index.ts';
import type { NodeClient } from './node-client.ts';

async function sha1(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha1$${hash.digest('hex')}`;
}

/** A downloaded tree as CWL lists it: Files with size and checksum, Directories with their listing. */
async function listing(dir: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push({ class: 'Directory', basename: name, location: pathToFileURL(full).href, path: full, listing: await listing(full) });
    else out.push({ class: 'File', basename: name, location: pathToFileURL(full).href, path: full, size: statSync(full).size, checksum: await sha1(full) });
  }
  return out;
}

/**
 * Downloads the files an output object links to (as `GET /runs/{id}/outputs` answers it) into `dir`, and
 * answers the output object with local `location`s and `path`s, as the reference runner prints it.
 */
export async function downloadOutputs(client: NodeClient, outputs: Record<string, unknown>, dir: string): Promise<Record<string, unknown>> {
  mkdirSync(dir, { recursive: true });
  const origin = new URL(client.node).origin;
  const fetchTo = async (location: string, target: string) => {
    mkdirSync(path.dirname(target), { recursive: true });
    const url = new URL(location);
    if (url.origin !== origin) throw new InvalidInputError(`${location} is not on ${client.node}`);
    const response = await client.request('GET', url.pathname.replace(/^\/api\/v1/, ''));
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(target));
  };
  const free = (dirPath: string, basename: string) => {
    let target = path.join(dirPath, basename);
    for (let n = 2; existsSync(target); n++) target = path.join(dirPath, `${basename}_${n}`);
    return target;
  };
  // Outputs naming the same file name the same downloaded file, as with the reference runner.
  const done = new Map<string, unknown>();
  return mapFsObjects(outputs, async (obj, nested) => {
    if (typeof obj.location !== 'string' || !/^https?:/.test(obj.location)) return { ...obj, ...(await mapNestedFields(obj, nested)) };
    if (done.has(obj.location)) return done.get(obj.location);
    const local = await download(obj, nested);
    done.set(obj.location, local);
    return local;
  });

  async function download(obj: Record<string, unknown> & { location?: unknown }, nested: (v: unknown) => Promise<unknown>): Promise<unknown> {
    const location = String(obj.location);
    const target = free(dir, String(obj.basename));
    if (obj.class === 'File') {
      await fetchTo(location, target);
      const file: Record<string, unknown> = { ...obj, location: pathToFileURL(target).href, path: target, basename: path.basename(target), size: statSync(target).size, checksum: await sha1(target) };
      if (Array.isArray(obj.secondaryFiles)) file.secondaryFiles = await nested(obj.secondaryFiles);
      return file;
    }
    mkdirSync(target, { recursive: true });
    for (const entry of (obj.listing as Record<string, unknown>[] | undefined) ?? []) {
      if (typeof entry.location === 'string') await fetchTo(entry.location, path.join(target, String(entry.basename)));
    }
    return { class: 'Directory', basename: path.basename(target), location: pathToFileURL(target).href, path: target, listing: await listing(target) };
  }
}
