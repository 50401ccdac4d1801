import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCwlProcess } from '../orchestrator/cwl/load/load-process.ts';
import type { ObjectStore } from '../core/index.ts';
import { createDirectoryObjectStore } from '../platform/object-store/index.ts';
import { runArchipel } from './support/archipel-process.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-step-cli-'));
async function text(store: ObjectStore, key: string) {
  const chunks: Uint8Array[] = [];
  for await (const chunk of (await store.get(key)).body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
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

  it('runs a tool pod: stage writes run.sh, the tool runs it, collect publishes the output file to the store', async () => {
    writeFileSync(
      path.join(dir, 'upper.cwl'),
      'cwlVersion: v1.2\nclass: CommandLineTool\ninputs:\n  text: File\noutputs:\n  upper: {type: stdout}\nstdin: $(inputs.text.path)\nstdout: upper.txt\nbaseCommand: [tr, a-z, A-Z]\n',
    );
    writeFileSync(
      path.join(dir, 'tool-wf.cwl'),
      'cwlVersion: v1.2\nclass: Workflow\ninputs:\n  text: File\noutputs:\n  upper: {type: File, outputSource: up/upper}\nsteps:\n  up: {run: upper.cwl, in: {text: text}, out: [upper]}\n',
    );
    const store = createDirectoryObjectStore({ root: path.join(dir, 'store2') });
    await store.put('runs/r2/process.json', Buffer.from(JSON.stringify(await loadCwlProcess(path.join(dir, 'tool-wf.cwl')))));
    await store.put('runs/r2/inputs/0/words.txt', Buffer.from('hello world\n'));
    await store.put('runs/r2/job.json', Buffer.from(JSON.stringify({ text: { class: 'File', location: 'archipel-object:///runs/r2/inputs/0/words.txt' } })));
    const common = ['--store', pathToFileURL(path.join(dir, 'store2')).href, '--document', 'runs/r2/process.json', '--root', 'runs/r2', '--scope', 'runs/r2'];
    const prepare = runArchipel(['step', 'prepare', ...common, '--step', 'up', '--out', path.join(dir, 'decision2')]);
    expect(await prepare.exited, prepare.stderr()).toBe(0);

    const work = path.join(dir, 'work');
    const stage = runArchipel(['step', 'stage', ...common, '--step', 'up', '--item', '0', '--work', work]);
    expect(await stage.exited, stage.stderr()).toBe(0);
    const tool = spawnSync('/bin/sh', [path.join(work, 'run.sh')], { encoding: 'utf8' });
    expect(tool.status, tool.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'exit-code'), 'utf8').trim()).toBe('0');
    const collect = runArchipel(['step', 'collect', ...common, '--step', 'up', '--item', '0', '--work', work]);
    expect(await collect.exited, collect.stderr()).toBe(0);

    const outputs = JSON.parse(await text(store, 'runs/r2/up/0/outputs.json'));
    expect(outputs.upper).toMatchObject({ class: 'File', basename: 'upper.txt', size: 12, checksum: 'sha1$dbc6f891ed1aa830aed20ccfa923cc10ca6eb0ab' });
    expect(outputs.upper.location).toMatch(/^archipel-object:\/\/\/runs\/r2\/up\/0\/files\/\d+\/upper\.txt$/);
    expect(await text(store, outputs.upper.location.slice('archipel-object:///'.length))).toBe('HELLO WORLD\n');
  });

  it('fails collect with the exit code when the tool failed, naming it', async () => {
    const work = path.join(dir, 'work');
    writeFileSync(path.join(work, 'exit-code'), '3\n');
    const common = ['--store', pathToFileURL(path.join(dir, 'store2')).href, '--document', 'runs/r2/process.json', '--root', 'runs/r2', '--scope', 'runs/r2'];
    const collect = runArchipel(['step', 'collect', ...common, '--step', 'up', '--item', '0', '--work', work]);
    expect(await collect.exited).not.toBe(0);
    expect(collect.stderr()).toContain('the tool exited with 3');
  });

  it('names a bad store URL', async () => {
    const bad = runArchipel(['step', 'finish', '--store', 'ftp://x', '--document', 'd', '--root', 'r', '--scope', 'r']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.stderr()).toContain('--store ftp://x: expected file:///path or s3://bucket/prefix');
  });
});
