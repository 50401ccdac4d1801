import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, UnavailableError } from '../../core/index.ts';
import { runObjectStoreContract } from './object-store.contract.ts';
import { createS3ObjectStore, type S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';
import { startS3rver, type S3rverHandle } from './testing.ts';

// The smallest parts, so that the contract's ~5 MiB stream goes multipart; small pages, so that its
// listings take several requests.
const PART_SIZE = 5 * 1024 * 1024;
const PAGE_SIZE = 4;

/** Each test gets its own prefix in the shared bucket, emptied afterwards. */
function perTestStores(options: () => S3ObjectStoreOptions) {
  let store: S3ObjectStore | undefined;
  return {
    async create() {
      store = createS3ObjectStore({ ...options(), prefix: `contract/${randomUUID()}`, partSize: PART_SIZE, listPageSize: PAGE_SIZE });
      return store;
    },
    async cleanup() {
      if (!store) return;
      for await (const { key } of store.list('')) await store.delete(key);
      store.close();
      store = undefined;
    },
  };
}

describe('S3 object store on s3rver', () => {
  let server: S3rverHandle;
  const options = (): S3ObjectStoreOptions => ({
    bucket: server.bucket,
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    ...server.credentials,
  });
  beforeAll(async () => {
    server = await startS3rver();
  });
  afterAll(async () => {
    await server?.stop();
  });

  runObjectStoreContract('s3 (s3rver)', perTestStores(options));

  it('pages through listings longer than one page', async () => {
    const store = createS3ObjectStore({ ...options(), prefix: `paging/${randomUUID()}`, listPageSize: 10 });
    try {
      const expected = Array.from({ length: 25 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
      await Promise.all([...expected].reverse().map((key) => store.put(key, Buffer.from(key))));
      await store.put('l', Buffer.from('outside the prefix'));
      const listed: string[] = [];
      for await (const { key } of store.list('k/')) listed.push(key);
      expect(listed).toEqual(expected);
    } finally {
      store.close();
    }
  });

  it('keeps each store to its prefix', async () => {
    const id = randomUUID();
    const outer = createS3ObjectStore({ ...options(), prefix: `iso/${id}` });
    const inner = createS3ObjectStore({ ...options(), prefix: `iso/${id}/tenant/` });
    try {
      await inner.put('a.txt', Buffer.from('inner'));
      await outer.put('b.txt', Buffer.from('outer'));
      expect(await keys(inner)).toEqual(['a.txt']);
      expect(await keys(outer)).toEqual(['b.txt', 'tenant/a.txt']);
      await expect(inner.head('b.txt')).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      outer.close();
      inner.close();
    }
  });

  it('names the bucket when it does not exist', async () => {
    const store = createS3ObjectStore({ ...options(), bucket: 'no-such-bucket' });
    try {
      const error = await store.get('x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as Error).message).toContain('"no-such-bucket"');
      expect((error as Error).cause).toMatchObject({ name: 'NoSuchBucket' });
      await expect(keys(store)).rejects.toThrow(/bucket "no-such-bucket" does not exist/);
    } finally {
      store.close();
    }
  });

  it('answers UnavailableError when the endpoint cannot be reached', async () => {
    const port = await closedPort();
    const store = createS3ObjectStore({ ...options(), endpoint: `http://127.0.0.1:${port}` });
    try {
      const error = await store.head('x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).retryable).toBe(true);
      expect((error as Error).cause).toBeDefined();
    } finally {
      store.close();
    }
  });
});

const endpoint = process.env.S3_ENDPOINT;
describe.skipIf(!endpoint)(
  endpoint
    ? `S3 object store on ${endpoint}`
    : 'S3 object store on a real endpoint: skipped because S3_ENDPOINT is not set (also needs S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY; S3_REGION optional)',
  () => {
    runObjectStoreContract(
      `s3 (${endpoint ?? 'S3_ENDPOINT'})`,
      perTestStores(() => ({
        bucket: process.env.S3_BUCKET ?? '',
        endpoint,
        region: process.env.S3_REGION ?? 'us-east-1',
        forcePathStyle: true,
        accessKeyId: process.env.S3_ACCESS_KEY_ID,
        secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
      })),
    );
  },
);

async function keys(store: S3ObjectStore): Promise<string[]> {
  const found: string[] = [];
  for await (const { key } of store.list('')) found.push(key);
  return found;
}

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
