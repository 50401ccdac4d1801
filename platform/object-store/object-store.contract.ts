import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError, type ObjectInfo, type ObjectStore } from '../../core/index.ts';
import { DEFAULT_CONTENT_TYPE } from './conventions.ts';

export interface ObjectStoreFactory {
  /** A fresh, empty store for one test. */
  create(): Promise<ObjectStore>;
  /** Called after each test. */
  cleanup?(): Promise<void>;
}

/** The behaviour every object-store adapter must show. Each adapter's test file calls this. */
export function runObjectStoreContract(name: string, factory: ObjectStoreFactory): void {
  describe(`object store contract: ${name}`, () => {
    let store: ObjectStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await factory.cleanup?.();
    });

    it('returns the bytes it stored, with their size, SHA-256 or entity tag, and content type', async () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const put = await store.put('runs/1/out.bin', bytes, { contentType: 'application/x-test' });
      expect(put).toMatchObject({ key: 'runs/1/out.bin', size: 256, contentType: 'application/x-test' });
      expect(put.etag).toMatch(/^[^"]+$/);

      const { info, body } = await store.get('runs/1/out.bin');
      expect(await collect(body)).toEqual(Buffer.from(bytes));
      expect(info).toMatchObject({ key: 'runs/1/out.bin', size: 256, etag: put.etag, contentType: 'application/x-test' });
    });

    it('stores empty objects, given as bytes or as an empty stream', async () => {
      await store.put('empty/bytes', new Uint8Array(0));
      await store.put('empty/stream', chunks([]));
      for (const key of ['empty/bytes', 'empty/stream']) {
        const { info, body } = await store.get(key);
        expect(info.size).toBe(0);
        expect((await collect(body)).length).toBe(0);
      }
    });

    it('streams a ~5 MiB object given as chunks, in and out', async () => {
      const size = 5 * 1024 * 1024 + 123_457; // crosses S3's 5 MiB minimum part size, off chunk boundaries
      const content = Buffer.alloc(size);
      for (let i = 0; i + 4 <= size; i += 4) content.writeUInt32LE(i, i);
      const pieces: Uint8Array[] = [];
      for (let offset = 0; offset < size; offset += 65_536) pieces.push(content.subarray(offset, offset + 65_536));

      const put = await store.put('big/object', chunks(pieces));
      expect(put.size).toBe(size);
      const { info, body } = await store.get('big/object');
      expect(info.size).toBe(size);
      const read = await collect(body);
      expect(read.length).toBe(size);
      expect(sha256(read)).toBe(sha256(content));
    });

    it('heads an object: size, last-modified time, content type, and the same tag as put', async () => {
      const before = Date.now();
      const put = await store.put('head/me.txt', Buffer.from('hello'), { contentType: 'text/plain' });
      const head = await store.head('head/me.txt');
      expect(head).toMatchObject({ key: 'head/me.txt', size: 5, etag: put.etag, contentType: 'text/plain' });
      expect(head.lastModified).toBeInstanceOf(Date);
      // Wide enough for S3's whole-second times and a remote endpoint's clock.
      expect(Math.abs(head.lastModified.getTime() - before)).toBeLessThan(10_000);
      expect(Math.abs(put.lastModified.getTime() - before)).toBeLessThan(10_000);
    });

    it(`reports ${DEFAULT_CONTENT_TYPE} when no content type was given`, async () => {
      const put = await store.put('untyped', Buffer.from('x'));
      expect(put.contentType).toBe(DEFAULT_CONTENT_TYPE);
      expect((await store.head('untyped')).contentType).toBe(DEFAULT_CONTENT_TYPE);
    });

    it('replaces an object on overwrite: content, size, tag and content type', async () => {
      const first = await store.put('over/write', Buffer.from('first version'), { contentType: 'text/plain' });
      const second = await store.put('over/write', Buffer.from('v2'), { contentType: 'application/json' });
      expect(second.etag).not.toBe(first.etag);
      const { info, body } = await store.get('over/write');
      expect((await collect(body)).toString()).toBe('v2');
      expect(info).toMatchObject({ size: 2, etag: second.etag, contentType: 'application/json' });
      expect(await keys(store, 'over/')).toEqual(['over/write']);
    });

    it('answers NotFoundError for a missing object', async () => {
      await store.put('present', Buffer.from('x'));
      await expect(store.get('missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.head('missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.head('present/below')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.get('pres')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('deletes: the object is gone from get, head and list; deleting again is fine', async () => {
      await store.put('del/a', Buffer.from('a'));
      await store.put('del/b', Buffer.from('b'));
      await store.delete('del/a');
      await expect(store.get('del/a')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.head('del/a')).rejects.toBeInstanceOf(NotFoundError);
      expect(await keys(store, '')).toEqual(['del/b']);
      await expect(store.delete('del/a')).resolves.toBeUndefined();
      await expect(store.delete('never/was')).resolves.toBeUndefined();
    });

    it('lists by prefix in byte order, nested keys included', async () => {
      // Inserted out of order; `-` < `.` < `/` in byte order, which a naive directory walk gets wrong.
      const all = ['b', 'a/c/d', 'ab/x', 'a/c.txt', 'a-c', 'a/b', 'abc'];
      for (const key of all) await store.put(key, Buffer.from(key));
      const sorted = ['a-c', 'a/b', 'a/c.txt', 'a/c/d', 'ab/x', 'abc', 'b'];
      expect(await keys(store, '')).toEqual(sorted);
      expect(await keys(store, 'a/')).toEqual(['a/b', 'a/c.txt', 'a/c/d']); // not ab/x
      expect(await keys(store, 'a/c')).toEqual(['a/c.txt', 'a/c/d']);
      expect(await keys(store, 'ab')).toEqual(['ab/x', 'abc']);
      expect(await keys(store, 'a')).toEqual(sorted.slice(0, -1));
      expect(await keys(store, 'zzz')).toEqual([]);
      expect(await keys(store, 'a/b/')).toEqual([]);
    });

    it('lists size, tag and last-modified time like head', async () => {
      await store.put('info/one', Buffer.from('12345'), { contentType: 'text/plain' });
      const [listed] = await infos(store, 'info/');
      const head = await store.head('info/one');
      expect(listed).toMatchObject({ key: 'info/one', size: 5, etag: head.etag });
      expect(listed?.lastModified.getTime()).toBe(head.lastModified.getTime());
    });

    it('keeps keys with spaces, punctuation and non-ASCII characters, ordered by UTF-8 bytes', async () => {
      // U+FF71 sorts before U+1F600 in UTF-8 but after it in UTF-16.
      const special = ['x/with space/file name.txt', 'x/ünïcödé/日本語.txt', 'x/ｱ', 'x/😀', 'x/a+b=c&d', 'x/(1) 100%'];
      for (const key of special) await store.put(key, Buffer.from(key));
      for (const key of special) {
        const { info, body } = await store.get(key);
        expect(info.key).toBe(key);
        expect((await collect(body)).toString()).toBe(key);
      }
      expect(await keys(store, 'x/')).toEqual([...special].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      expect(await keys(store, 'x/ｱ')).toEqual(['x/ｱ']);
    });

    it('rejects invalid keys with InvalidInputError and writes nothing', async () => {
      const invalid = ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', '', 'trailing/', 'back\\slash', 'nul\u0000', 'x'.repeat(1025)];
      for (const key of invalid) {
        await expect(store.put(key, Buffer.from('x')), key).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.put(key, chunks([Buffer.from('x')])), key).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.head(key), key).rejects.toBeInstanceOf(InvalidInputError);
        await expect(store.delete(key), key).rejects.toBeInstanceOf(InvalidInputError);
      }
      await expect(keys(store, '../')).rejects.toBeInstanceOf(InvalidInputError);
      expect(await keys(store, '')).toEqual([]);
    });

    it('rejects with AbortError when the signal is already aborted, and writes nothing', async () => {
      await store.put('kept', Buffer.from('x'));
      const signal = AbortSignal.abort();
      const aborted = { name: 'AbortError' };
      await expect(store.put('new', Buffer.from('x'), { signal })).rejects.toMatchObject(aborted);
      await expect(store.put('new', chunks([Buffer.from('x')]), { signal })).rejects.toMatchObject(aborted);
      await expect(store.get('kept', { signal })).rejects.toMatchObject(aborted);
      await expect(store.head('kept', { signal })).rejects.toMatchObject(aborted);
      await expect(store.delete('kept', { signal })).rejects.toMatchObject(aborted);
      await expect(keys(store, '', signal)).rejects.toMatchObject(aborted);
      expect(await keys(store, '')).toEqual(['kept']);
    });

    it('abandons a streamed put aborted midway: nothing is stored, the old version stays', async () => {
      await store.put('midway', Buffer.from('old'));
      const controller = new AbortController();
      async function* body() {
        for (let i = 0; i < 12; i++) {
          if (i === 11) controller.abort();
          yield Buffer.alloc(1024 * 1024, i); // two 5 MiB parts have gone to S3 by then
        }
      }
      await expect(store.put('midway', body(), { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
      await expect(store.put('fresh', chunks([Buffer.from('x')]), { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect(await keys(store, '')).toEqual(['midway']);
      expect((await collect((await store.get('midway')).body)).toString()).toBe('old');
    });

    it('stores nothing when the body fails, and passes its error on', async () => {
      const failure = new Error('source broke');
      async function* body() {
        yield Buffer.alloc(1024, 1);
        throw failure;
      }
      await expect(store.put('broken', body())).rejects.toBe(failure);
      await expect(store.head('broken')).rejects.toBeInstanceOf(NotFoundError);
      expect(await keys(store, '')).toEqual([]);
    });

    it('stops a get stream when its signal is aborted', async () => {
      await store.put('stream/abort', Buffer.alloc(3 * 1024 * 1024, 1));
      const controller = new AbortController();
      const { body } = await store.get('stream/abort', { signal: controller.signal });
      controller.abort();
      await expect(collect(body)).rejects.toMatchObject({ name: 'AbortError' });
    });
  });
}

async function* chunks(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  for await (const piece of body) pieces.push(piece);
  return Buffer.concat(pieces);
}

async function infos(store: ObjectStore, prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
  const found: ObjectInfo[] = [];
  for await (const info of store.list(prefix, { signal })) found.push(info);
  return found;
}

async function keys(store: ObjectStore, prefix: string, signal?: AbortSignal): Promise<string[]> {
  return (await infos(store, prefix, signal)).map((info) => info.key);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
