import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { globRelative } from './glob-outdir.ts';

const root = mkdtempSync(path.join(tmpdir(), 'glob-outdir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('globRelative', () => {
  const outdir = path.join(root, 'out');
  const elsewhere = path.join(root, 'elsewhere');
  mkdirSync(path.join(outdir, 'sub'), { recursive: true });
  mkdirSync(path.join(elsewhere, 'staged'), { recursive: true });
  writeFileSync(path.join(elsewhere, 'staged', 'x.txt'), 'x');
  writeFileSync(path.join(outdir, 'a.txt'), '');
  writeFileSync(path.join(outdir, 'b.csv'), '');
  writeFileSync(path.join(outdir, '.hidden'), '');
  writeFileSync(path.join(outdir, '[x].txt'), '');
  writeFileSync(path.join(outdir, 'sub', 'c.txt'), '');
  symlinkSync(path.join(elsewhere, 'staged'), path.join(outdir, 'linked'));

  it('matches a linked directory as a directory, and looks inside it', () => {
    expect(globRelative(outdir, '*')).toEqual(['[x].txt', 'a.txt', 'b.csv', 'linked', 'sub']);
    expect(globRelative(outdir, '*/*.txt')).toEqual(['linked/x.txt', 'sub/c.txt']);
  });

  it('follows POSIX glob: sets, ?, hidden names only by a leading dot, \\ quotes', () => {
    expect(globRelative(outdir, '[ab].*')).toEqual(['a.txt', 'b.csv']);
    expect(globRelative(outdir, '[!a]*.???')).toEqual(['[x].txt', 'b.csv']);
    expect(globRelative(outdir, '.*')).toEqual(['.hidden']);
    expect(globRelative(outdir, '\\[x].txt')).toEqual(['[x].txt']);
    expect(globRelative(outdir, '[x].txt')).toEqual([]);
    expect(globRelative(outdir, 'sub/c.txt')).toEqual(['sub/c.txt']);
    expect(globRelative(outdir, 'nothing/*')).toEqual([]);
  });
});
