import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCwlProcess } from '../orchestrator/cwl/load/load-process.ts';
import { createDirectoryObjectStore } from '../platform/object-store/index.ts';
import { runArchipel } from './support/archipel-process.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-step-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('archipel step (the control steps a translated Workflow runs)', () => {
  it('prepares a scattered step into decision files Argo reads, then gathers and finishes', async () => {
    writeFileSync(path.join(dir, 'echo.cwl'), 'cwlVersion: v1.2\nclass: CommandLineTool\ninputs:\n  word: string\noutputs:\n  said: string\nbaseCommand: echo\n');
    writeFileSync(
      path.join(dir, 'wf.cwl'),
      'cwlVersion: v1.2\nclass: Workflow\nrequirements:\n  ScatterFeatureRequirement: {}\ninputs:\n  words: string[]\noutputs:\n  said: {type: "string[]", outputSource: say/said}\nsteps:\n  say: {run: echo.cwl, scatter: word, in: {word: words}, out: [said]}\n',
    );
    const store = createDirectoryObjectStore({ root: path.join(dir, 'store') });
    await store.put('runs/r1/process.json', Buffer.from(JSON.stringify(await loadCwlProcess(path.join(dir, 'wf.cwl')))));
    await store.put('runs/r1/job.json', Buffer.from(JSON.stringify({ words: ['x', 'y'] })));
    const common = ['--store', pathToFileURL(path.join(dir, 'store')).href, '--document', 'runs/r1/process.json', '--root', 'runs/r1', '--scope', 'runs/r1'];

    const prepare = runArchipel(['step', 'prepare', ...common, '--step', 'say', '--out', path.join(dir, 'decision')]);
    expect(await prepare.exited, prepare.stderr()).toBe(0);
    expect(readFileSync(path.join(dir, 'decision/run'), 'utf8')).toBe('true');
    expect(JSON.parse(readFileSync(path.join(dir, 'decision/items'), 'utf8'))).toEqual([0, 1]);

    await store.put('runs/r1/say/0/outputs.json', Buffer.from('{"said":"x"}'));
    await store.put('runs/r1/say/1/outputs.json', Buffer.from('{"said":"y"}'));
    const gather = runArchipel(['step', 'gather', ...common, '--step', 'say']);
    expect(await gather.exited, gather.stderr()).toBe(0);
    const finish = runArchipel(['step', 'finish', ...common]);
    expect(await finish.exited, finish.stderr()).toBe(0);
    expect(JSON.parse(finish.stdout())).toEqual({ said: ['x', 'y'] });
  });

  it('names a bad store URL', async () => {
    const bad = runArchipel(['step', 'finish', '--store', 'ftp://x', '--document', 'd', '--root', 'r', '--scope', 'r']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.stderr()).toContain('--store ftp://x: expected file:///path or s3://bucket/prefix');
  });
});
