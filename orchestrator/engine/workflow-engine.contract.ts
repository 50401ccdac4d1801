import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeState, RunState, WorkflowEngine } from '../../core/index.ts';

/**
 * The workflow-engine port's contract: what the run service relies on, whichever adapter runs the
 * Workflow (the local engine, or an Argo server). Every adapter's test calls it.
 */
export interface WorkflowEngineContractOptions {
  create(): Promise<{ engine: WorkflowEngine; cleanup(): Promise<void> }>;
}

const sh = (script: string) => ({ container: { image: 'alpine:3.20', command: ['/bin/sh', '-c', script] } });

function workflow(tasks: { name: string; script: string; dependencies?: string[] }[], parameters: { name: string; value?: string }[] = []) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { generateName: 'contract-' },
    spec: {
      entrypoint: 'main',
      ...(parameters.length ? { arguments: { parameters } } : {}),
      templates: [
        { name: 'main', dag: { tasks: tasks.map((t) => ({ name: t.name, template: t.name, ...(t.dependencies ? { dependencies: t.dependencies } : {}) })) } },
        ...tasks.map((t) => ({ name: t.name, ...sh(t.script) })),
      ],
    },
  };
}

const pod = (state: RunState, displayName: string): NodeState => {
  const node = Object.values(state.nodes).find((n) => n.displayName === displayName && n.type === 'Pod');
  if (!node) throw new Error(`no pod node "${displayName}" in ${JSON.stringify(Object.values(state.nodes).map((n) => n.displayName))}`);
  return node;
};

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function runWorkflowEngineContract(options: WorkflowEngineContractOptions) {
  let engine: WorkflowEngine;
  let cleanup: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    ({ engine, cleanup } = await options.create());
    dir = mkdtempSync(join(tmpdir(), 'archipel-engine-contract-'));
  });
  afterAll(async () => {
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('workflow-engine contract', () => {
    it('runs a DAG in dependency order with the submitted parameters, and reports Argo-shaped nodes', async () => {
      const manifest = workflow(
        [
          { name: 'hello', script: 'echo "hello {{workflow.parameters.who}}"' },
          { name: 'after', script: 'echo after', dependencies: ['hello'] },
        ],
        [{ name: 'who' }],
      );
      const { name } = await engine.submit(manifest, { parameters: { who: 'world' } });
      expect(name).toMatch(/^contract-[a-z0-9]{5}$/);
      const done = await engine.wait(name);
      expect(done).toMatchObject({ name, phase: 'Succeeded' });
      expect(done.nodes[name]).toMatchObject({ type: 'DAG', phase: 'Succeeded' });
      const hello = pod(done, 'hello');
      const after = pod(done, 'after');
      expect(hello.outputs?.result).toBe('hello world');
      expect(after.startedAt >= hello.finishedAt!).toBe(true);
      expect(await engine.logs(name, hello.id)).toBe('hello world\n');
      expect((await engine.get(name)).phase).toBe('Succeeded');
      expect((await engine.list()).map((r) => r.name)).toContain(name);
    });

    it('fails a run whose task fails, and never starts what depends on it', async () => {
      const { name } = await engine.submit(workflow([
        { name: 'broken', script: 'echo oops >&2; exit 3' },
        { name: 'later', script: 'echo never', dependencies: ['broken'] },
      ]));
      const done = await engine.wait(name);
      expect(done.phase).toBe('Failed');
      expect(pod(done, 'broken')).toMatchObject({ phase: 'Failed', outputs: { exitCode: '3' } });
      expect(Object.values(done.nodes).some((n) => n.displayName === 'later' && n.phase === 'Succeeded')).toBe(false);
      expect(await engine.logs(name, pod(done, 'broken').id)).toContain('oops');
    });

    it('stops a running run: it fails and its pods end', async () => {
      const { name } = await engine.submit(workflow([{ name: 'nap', script: 'sleep 30' }]));
      await until(async () => Object.values((await engine.get(name)).nodes).some((n) => n.type === 'Pod' && n.phase === 'Running'), 'the pod to run');
      const stopped = await engine.stop(name);
      expect(stopped.phase).toBe('Failed');
      expect(['Failed', 'Error']).toContain(pod(stopped, 'nap').phase);
      // A finished run is left as it is.
      expect((await engine.stop(name)).phase).toBe('Failed');
    });

    it('retries a failed run: nodes that succeeded keep their results, the failed ones run again', async () => {
      const trace = join(dir, 'trace');
      const flag = join(dir, 'flag');
      const { name } = await engine.submit(workflow([
        { name: 'first', script: `echo first >> ${trace}; echo one` },
        { name: 'second', script: `echo second >> ${trace}; test -e ${flag}`, dependencies: ['first'] },
      ]));
      expect((await engine.wait(name)).phase).toBe('Failed');
      await expect(engine.retry(name).then(() => engine.wait(name))).resolves.toMatchObject({ phase: 'Failed' });
      writeFileSync(flag, '');
      await engine.retry(name);
      const done = await engine.wait(name);
      expect(done.phase).toBe('Succeeded');
      expect(readFileSync(trace, 'utf8')).toBe('first\nsecond\nsecond\nsecond\n');
      expect(pod(done, 'first').outputs?.result).toBe('one');
      await expect(engine.retry(name)).rejects.toMatchObject({ kind: 'conflict' });
      expect(existsSync(flag)).toBe(true);
    });

    it('deletes a finished run, refuses to delete a running one, and answers not-found after', async () => {
      const { name } = await engine.submit(workflow([{ name: 'quick', script: 'true' }]));
      expect((await engine.wait(name)).phase).toBe('Succeeded');
      await engine.delete(name);
      await expect(engine.get(name)).rejects.toMatchObject({ kind: 'not-found' });
      const running = await engine.submit(workflow([{ name: 'nap', script: 'sleep 30' }]));
      await until(async () => (await engine.get(running.name)).phase === 'Running', 'the run to start');
      await expect(engine.delete(running.name)).rejects.toMatchObject({ kind: 'conflict' });
      await engine.stop(running.name);
      await expect(engine.get('contract-nosuch')).rejects.toMatchObject({ kind: 'not-found' });
    });
  });
}
