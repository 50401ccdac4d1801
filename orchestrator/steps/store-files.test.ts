import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../core/index.ts';
import { createDirectoryObjectStore } from '../../platform/object-store/index.ts';
import { createStoreMirror, objectKeyOf } from './store-files.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-store-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Fs = { location?: string; path?: string; basename?: string; listing?: Fs[]; secondaryFiles?: Fs[]; [field: string]: unknown };

async function keys(store: ObjectStore, prefix = '') {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.key);
  return out;
}

describe('files through the object store', () => {
  const store = createDirectoryObjectStore({ root: path.join(dir, 'store') });
  const local = path.join(dir, 'local');
  mkdirSync(path.join(local, 'tree/sub'), { recursive: true });
  mkdirSync(path.join(local, 'tree/empty'), { recursive: true });
  writeFileSync(path.join(local, 'reads.bam'), 'bam');
  writeFileSync(path.join(local, 'reads.bam.bai'), 'index');
  writeFileSync(path.join(local, 'tree/sub/a.txt'), 'A');

  it('publishes files, secondary files and directories, and materializes them elsewhere with the same content', async () => {
    const value: { reads: Fs; tree: Fs; literal: Fs; n: number } = {
      reads: {
        class: 'File',
        location: pathToFileURL(path.join(local, 'reads.bam')).href,
        basename: 'reads.bam',
        size: 3,
        checksum: 'sha1$x',
        secondaryFiles: [{ class: 'File', path: path.join(local, 'reads.bam.bai'), basename: 'reads.bam.bai' }],
      },
      tree: {
        class: 'Directory',
        path: path.join(local, 'tree'),
        basename: 'tree',
        listing: [{ class: 'Directory', path: path.join(local, 'tree/sub'), basename: 'sub', listing: [{ class: 'File', path: path.join(local, 'tree/sub/a.txt'), basename: 'a.txt' }] }],
      },
      literal: { class: 'File', basename: 'note.txt', contents: 'hello' },
      n: 3,
    };
    const published = await createStoreMirror(store, path.join(dir, 'mirror-a')).publish(value, 'runs/r/step/0/files');

    // Only keys remain: no path of the machine that published.
    expect(JSON.stringify(published)).not.toContain(local);
    expect(objectKeyOf(published.reads.location)).toBe('runs/r/step/0/files/0/reads.bam');
    expect(published.reads).toMatchObject({ basename: 'reads.bam', size: 3, checksum: 'sha1$x' });
    const nested = published.tree.listing![0]!.listing![0]!;
    expect(objectKeyOf(nested.location)).toBe(`${objectKeyOf(published.tree.location)}/sub/a.txt`);
    expect(published.literal).toEqual(value.literal);
    expect(published.n).toBe(3);
    expect(await keys(store)).toEqual([
      'runs/r/step/0/files/0/reads.bam',
      'runs/r/step/0/files/1/reads.bam.bai',
      'runs/r/step/0/files/2/tree/empty/.archipel-empty-dir',
      'runs/r/step/0/files/2/tree/sub/a.txt',
    ]);

    const other = createStoreMirror(store, path.join(dir, 'mirror-b'));
    const materialized = await other.materialize(published);
    expect(readFileSync(materialized.reads.path as string, 'utf8')).toBe('bam');
    expect(path.basename(materialized.reads.path as string)).toBe('reads.bam');
    expect(readFileSync(materialized.reads.secondaryFiles![0]!.path as string, 'utf8')).toBe('index');
    const tree = materialized.tree.path as string;
    expect(readFileSync(path.join(tree, 'sub/a.txt'), 'utf8')).toBe('A');
    expect(statSync(path.join(tree, 'empty')).isDirectory()).toBe(true);
    // The listing is left for the reader to make from the copy (the store may hold more by now).
    expect(materialized.tree.listing).toBeUndefined();

    // Publishing what was materialized names the same objects again, without uploading copies.
    const again = await other.publish(materialized, 'runs/r/next/0/inputs');
    expect(again.reads.location).toBe(published.reads.location);
    expect(again.tree.location).toBe(published.tree.location);
    expect(await keys(store, 'runs/r/next')).toEqual([]);
  });

  it('gives a materialized file the time it was stored, not a made-up one', async () => {
    const before = Date.now();
    await store.put('runs/r/made/0/result.txt', Buffer.from('made'));
    const stored = (await store.head('runs/r/made/0/result.txt')).lastModified.getTime();
    const file: Fs = await createStoreMirror(store, path.join(dir, 'mirror-time')).materialize<Fs>({ class: 'File', location: 'archipel-object:///runs/r/made/0/result.txt' });
    const { mtimeMs } = statSync(file.path as string);
    expect(Math.abs(mtimeMs - stored)).toBeLessThan(1);
    expect(Math.abs(mtimeMs - before)).toBeLessThan(60_000);
  });

  it('finds a file changed in place by another mirror of the same folder (a pod’s stage and collect)', async () => {
    await store.put('runs/r/pod/0/data.txt', Buffer.from('1'));
    await store.put('runs/r/pod/0/kept.txt', Buffer.from('kept'));
    const folder = path.join(dir, 'mirror-pod');
    const staged: Fs[] = await createStoreMirror(store, folder).materialize<Fs[]>([
      { class: 'File', location: 'archipel-object:///runs/r/pod/0/data.txt' },
      { class: 'File', location: 'archipel-object:///runs/r/pod/0/kept.txt' },
    ]);
    writeFileSync(staged[0]!.path as string, '22');
    writeFileSync(path.join(folder, 'runs/r/pod/0/added.txt'), 'new');
    const collecting = createStoreMirror(store, folder);
    expect((await collecting.pushChanges()).sort()).toEqual(['runs/r/pod/0/added.txt', 'runs/r/pod/0/data.txt']);
    expect(await collecting.pushChanges()).toEqual([]);
  });

  it('pushes files changed in place back under their own keys, and nothing else', async () => {
    await store.put('runs/r/in/0/data.txt', Buffer.from('3'));
    const mirror = createStoreMirror(store, path.join(dir, 'mirror-c'));
    const file: Fs = await mirror.materialize<Fs>({ class: 'File', location: 'archipel-object:///runs/r/in/0/data.txt' });
    await store.put('runs/r/in/1/other.txt', Buffer.from('untouched'));
    await mirror.materialize({ class: 'File', location: 'archipel-object:///runs/r/in/1/other.txt' });
    expect(await mirror.pushChanges()).toEqual([]);

    writeFileSync(file.path as string, '4');
    expect(await mirror.pushChanges()).toEqual(['runs/r/in/0/data.txt']);
    const { body } = await store.get('runs/r/in/0/data.txt');
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('4');
    expect(await mirror.pushChanges()).toEqual([]); // pushed once
  });
});
