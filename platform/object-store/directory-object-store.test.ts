import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, NotFoundError, type ObjectStore } from '../../core/index.ts';
import { createDirectoryObjectStore } from './directory-object-store.ts';
import { runObjectStoreContract } from './object-store.contract.ts';

let contractRoot = '';
runObjectStoreContract('directory', {
  async create() {
    contractRoot = await mkdtemp(join(tmpdir(), 'archipel-objects-'));
    return createDirectoryObjectStore({ root: contractRoot });
  },
  async cleanup() {
    await rm(contractRoot, { recursive: true, force: true });
  },
});

describe('directory object store', () => {
  let parent: string;
  let root: string;
  let store: ObjectStore;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'archipel-objects-'));
    root = join(parent, 'root');
    store = createDirectoryObjectStore({ root });
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('never writes outside its root', async () => {
    await writeFile(join(parent, 'secret'), 'keep');
    for (const key of ['../escape', '../../escape', 'a/../../escape', '/tmp/escape', '../secret']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidInputError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidInputError);
    }
    await expect(store.get('../secret')).rejects.toBeInstanceOf(InvalidInputError);
    expect((await readdir(parent)).sort()).toEqual(['secret']); // not even the root was created
  });

  it('never shows an upload in progress, and leaves no temporary file behind', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const writing = new Promise<void>((resolve) => (started = resolve));
    async function* body() {
      yield Buffer.alloc(64 * 1024, 1);
      started();
      await gate;
      yield Buffer.alloc(64 * 1024, 2);
    }
    const put = store.put('slow/object', body());
    await writing;
    expect(await readdir(join(root, 'tmp'))).toHaveLength(1); // the upload is on disk...
    expect(await keys(store, '')).toEqual([]); // ...but not an object yet
    await expect(store.head('slow/object')).rejects.toBeInstanceOf(NotFoundError);
    release();
    expect((await put).size).toBe(128 * 1024);
    expect(await keys(store, '')).toEqual(['slow/object']);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);

    await expect(store.put('failed', (async function* () { yield Buffer.from('x'); throw new Error('boom'); })())).rejects.toThrow('boom');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('keeps objects across instances on the same root', async () => {
    const put = await store.put('kept/a.txt', Buffer.from('persisted'), { contentType: 'text/plain' });
    const reopened = createDirectoryObjectStore({ root });
    expect(await reopened.head('kept/a.txt')).toEqual(put);
  });

  it('refuses a key that is also a prefix of another (S3 allows it; a file system cannot)', async () => {
    await store.put('a/b', Buffer.from('x'));
    await expect(store.put('a', Buffer.from('y'))).rejects.toBeInstanceOf(ConflictError);
    await expect(store.put('a/b/c', Buffer.from('z'))).rejects.toBeInstanceOf(ConflictError);
    expect(await keys(store, '')).toEqual(['a/b']);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    // Deleting the last key below a prefix frees the prefix to become a key.
    await store.delete('a/b');
    await store.put('a', Buffer.from('y'));
    expect(await keys(store, '')).toEqual(['a']);
  });

  it('ignores files under its root that it did not write', async () => {
    await store.put('real', Buffer.from('x'));
    await mkdir(join(root, 'objects', 'dir'), { recursive: true });
    await writeFile(join(root, 'objects', 'dir', 'stray'), 'not an object');
    expect(await keys(store, '')).toEqual(['real']);
    await expect(store.get('dir/stray')).rejects.toBeInstanceOf(NotFoundError);
  });
});

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const info of store.list(prefix)) found.push(info.key);
  return found;
}
