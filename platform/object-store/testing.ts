import crypto from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareUtf8 } from './conventions.ts';

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>`: use with `forcePathStyle: true` and region `us-east-1`. */
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/** The parts of s3rver 3.7 used here (it ships no types). */
interface S3rver {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
  store: { listObjects(bucket: string, options: ListOptions): Promise<ListResult> };
}
interface ListOptions {
  prefix?: string;
  startAfter?: string;
  maxKeys?: number;
  delimiter?: string;
}
interface ListResult {
  objects: { key: string }[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

/**
 * Starts s3rver (an S3-protocol server on the file system) on 127.0.0.1, on a free port and a fresh
 * temporary directory, with one empty bucket. Two faults of s3rver 3.7 are corrected so that it
 * behaves as S3 does for the object-store contract; see `fixListing` and `allowSingleDes`.
 */
export async function startS3rver(): Promise<S3rverHandle> {
  allowSingleDes();
  const S3rverClass = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rver;
  const directory = await mkdtemp(join(tmpdir(), 'archipel-s3rver-'));
  const bucket = 'archipel-test';
  const server = new S3rverClass({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
  fixListing(server);
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver lists keys in directory-walk order (`a/b` before `a`, `c/d/e` before `c/d`), not in S3's byte
 * order, and its `startAfter` cut assumes sorted input. List everything, then sort and cut here.
 * Fine for tests: each page rereads the whole prefix. (Common prefixes are not re-paged: unused here.)
 */
function fixListing(server: S3rver): void {
  const { store } = server;
  const listAll = store.listObjects.bind(store);
  store.listObjects = async (bucket, { startAfter, maxKeys = Infinity, ...options }) => {
    const all = await listAll(bucket, { ...options, startAfter: '', maxKeys: Infinity });
    const objects = all.objects
      .filter((object) => !startAfter || compareUtf8(object.key, startAfter) > 0)
      .sort((a, b) => compareUtf8(a.key, b.key));
    return { objects: objects.slice(0, maxKeys), commonPrefixes: all.commonPrefixes, isTruncated: objects.length > maxKeys };
  };
}

const desPatched = Symbol.for('archipel.s3rver.des');

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node >= 17)
 * leaves out: every truncated listing answers 500. Triple DES with three equal keys is single DES, and
 * OpenSSL 3 still has it, so route 'des' there. Only calls that would otherwise throw change; the
 * alternative, `--openssl-legacy-provider`, would have to be set for the whole test process.
 */
function allowSingleDes(): void {
  const target = crypto as typeof crypto & { [desPatched]?: true };
  if (target[desPatched]) return;
  const { createCipheriv, createDecipheriv } = crypto;
  const des3 = (algorithm: string, key: crypto.CipherKey): [string, crypto.CipherKey] =>
    algorithm === 'des' && key instanceof Uint8Array ? ['des-ede3-cbc', Buffer.concat([key, key, key])] : [algorithm, key];
  type Create = (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null) => unknown;
  target.createCipheriv = ((algorithm, key, iv) => (createCipheriv as Create)(...des3(algorithm, key), iv)) as Create as typeof createCipheriv;
  target.createDecipheriv = ((algorithm, key, iv) => (createDecipheriv as Create)(...des3(algorithm, key), iv)) as Create as typeof createDecipheriv;
  target[desPatched] = true;
}
