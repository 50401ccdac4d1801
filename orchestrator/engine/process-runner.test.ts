import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessRunner, type ContainerRunRequest } from './process-runner.ts';

const dir = mkdtempSync(join(tmpdir(), 'archipel-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
const request = (command: string[], extra: Partial<ContainerRunRequest> = {}): ContainerRunRequest => ({
  runName: 'r',
  nodeId: 'n',
  container: 'main',
  command,
  args: [],
  env: {},
  workingDir: dir,
  logFile: join(dir, `${++count}.log`),
  annotations: {},
  signal: new AbortController().signal,
  ...extra,
});

describe('process runner', () => {
  const run = createProcessRunner({ commandMap: { greet: ['/bin/sh', '-c', 'echo "hi $0"'] }, killGraceMs: 500 });

  it('runs the command in its directory with its environment, logging stdout and stderr', async () => {
    const r = request(['/bin/sh', '-c'], { args: ['echo "$GREETING from $(pwd)"; echo warn >&2; exit 4'], env: { GREETING: 'hello' } });
    const result = await run(r);
    expect(result).toEqual({ exitCode: 4, stdout: `hello from ${dir}\n` });
    expect(readFileSync(r.logFile, 'utf8').split('\n').sort()).toEqual(['', `hello from ${dir}`, 'warn']);
  });

  it('maps commands through the command map', async () => {
    expect((await run(request(['greet'], { args: ['there'] }))).stdout).toBe('hi there\n');
  });

  it('runs `archipel` as this checkout\'s CLI by default', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await createProcessRunner()(request(['archipel'], { args: ['--version'] }));
    expect(result.stdout).toBe(`${version}\n`); // (the CLI's exit code for --version is commander's business)
  });

  it('reports a command that cannot start', async () => {
    const result = await run(request(['/no/such/command']));
    expect(result.exitCode).toBeNull();
    expect(result.startError).toMatch(/cannot start \/no\/such\/command: .*ENOENT/);
  });

  it('kills what the main process left running, as a container ends', async () => {
    const started = Date.now();
    const result = await run(request(['/bin/sh', '-c', 'sleep 30 & echo started']));
    expect(result).toEqual({ exitCode: 0, stdout: 'started\n' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('kills the process group when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = run(request(['/bin/sh', '-c', 'sleep 30; echo late'], { signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    const result = await pending;
    expect(result.exitCode).toBeNull();
    expect(result.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
