import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { localCaller, type CatalogService } from '../catalog/index.ts';
import { InternalError, InvalidInputError } from '../core/index.ts';
import type { OutputFile, OutputStorage } from '../orchestrator/index.ts';
import type { EntryAccess, GrantService } from '../providers/index.ts';

export interface OutputStorageOptions {
  catalog: Pick<CatalogService, 'get' | 'clusterId'>;
  entryAccess: EntryAccess;
  grants: Pick<GrantService, 'revoke'>;
  memberProjectNames(userId: string): Promise<string[]>;
}

/** How long the grant that writes a run's outputs may last. */
const WRITE_GRANT_SECONDS = 3600;

/** PUTs a file to a pre-signed URL, streamed, with its length (S3 wants it). */
async function putTo(url: string, file: OutputFile): Promise<void> {
  const body = Readable.from(await file.open());
  await new Promise<void>((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'PUT', headers: { 'Content-Length': String(file.size) } }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new InternalError(`the storage answered ${res.statusCode} for ${file.path}`))));
    });
    req.on('error', reject);
    body.on('error', (error) => req.destroy(error));
    body.pipe(req);
  });
}

/**
 * Run outputs written to storage catalog entries, through the access grants the run's owner gets for the
 * entry (as `POST /providers/access` would give them): a writable directory of its own under a directory
 * target, or pre-signed PUT URLs under a prefix of its own in an S3 target. The grant ends once the files
 * are written.
 */
export function createOutputStorage(options: OutputStorageOptions): OutputStorage {
  const callerFor = async (user: { userId: string; userName: string }, projects?: readonly string[]) =>
    localCaller({ ...user, isAdmin: false }, options.catalog.clusterId(), [...(projects ?? (await options.memberProjectNames(user.userId)))]);

  return {
    async check(caller, target, signal) {
      const entry = await options.catalog.get(localCaller(caller.principal, options.catalog.clusterId(), [...caller.projects]), target.entry, { signal });
      if (entry.kind !== 'storage') throw new InvalidInputError(`outputs: catalog entry "${target.entry}" is a ${entry.kind} entry, not a storage entry`, [{ path: 'outputs.entry', message: 'not a storage entry' }]);
      if (entry.spec.target.type === 'postgresql') {
        throw new InvalidInputError(`outputs: storage entry "${entry.name}" is a PostgreSQL schema: output files go to a directory or S3 storage entry`, [{ path: 'outputs.entry', message: 'cannot take files' }]);
      }
    },

    async write(owner, target, files, signal) {
      const names = files.map((f) => (target.prefix ? `${target.prefix}/${f.path}` : f.path));
      const { grant, access } = await options.entryAccess.request(await callerFor(owner), target.entry, { ttlSeconds: WRITE_GRANT_SECONDS, uploads: names }, { signal });
      try {
        if (access.type === 'directory') {
          for (const [i, file] of files.entries()) {
            const to = path.join(access.path, names[i]!);
            await mkdir(path.dirname(to), { recursive: true });
            await pipeline(Readable.from(await file.open()), createWriteStream(to), { signal });
          }
          return { type: 'directory', path: target.prefix ? path.join(access.path, target.prefix) : access.path, files: names };
        }
        if (access.type === 'presigned-write') {
          const byName = new Map(access.uploads.map((u) => [u.name, u]));
          for (const [i, file] of files.entries()) await putTo(byName.get(names[i]!)!.url, file);
          return { type: 's3', bucket: access.bucket, prefix: target.prefix ? `${access.prefix}${target.prefix}/` : access.prefix, files: access.uploads.map((u) => u.key) };
        }
        throw new InvalidInputError(`storage entry "${target.entry}" cannot take files (${access.type})`);
      } finally {
        await options.grants.revoke({ userId: owner.userId, userName: owner.userName, isAdmin: false, tokenId: 'run-outputs' }, grant.id).catch(() => {});
      }
    },
  };
}
