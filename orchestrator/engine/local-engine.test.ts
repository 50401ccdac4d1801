import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, NotImplementedError, type NodeState, type RunState, type SqlDatabase } from '../../core/index.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/sql/testing.ts';
import { createLocalEngine, createProcessRunner, type LocalEngine, type LocalEngineOptions } from './index.ts';

let database: TestDatabase;
let root: string;
let engines: LocalEngine[] = [];
let dir: string; // a host directory of the current test, for the steps to leave traces in

beforeAll(async () => {
  database = await createTestDatabase();
  root = mkdtempSync(join(tmpdir(), 'archipel-engine-'));
});
afterAll(async () => {
  await database.cleanup();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(engines.map((e) => e.close()));
  engines = [];
});

let testCount = 0;
function engine(options: Partial<LocalEngineOptions> = {}): LocalEngine {
  const e = createLocalEngine({ db: database.db, workRoot: join(root, 'work'), cores: 4, memoryMiB: 4096, ...options });
  engines.push(e);
  return e;
}
function freshDir(): string {
  dir = join(root, `t${++testCount}`);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

const sh = (script: string, extra: Record<string, unknown> = {}) => ({ container: { image: 'alpine', command: ['/bin/sh', '-c', script], ...extra } });
const workflow = (templates: Record<string, unknown>[], spec: Record<string, unknown> = {}) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Workflow',
  metadata: { generateName: 'test-' },
  spec: { entrypoint: 'main', templates, ...spec },
});
const dag = (tasks: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({ name: 'main', dag: { tasks }, ...extra });
/** A template `echo` that appends its `msg` input to a file of the test's directory. */
const echoTemplate = () => ({
  name: 'echo',
  inputs: { parameters: [{ name: 'msg' }] },
  ...sh(`mkdir -p ${dir} && echo "{{inputs.parameters.msg}}" >> ${dir}/trace`),
});
const trace = () => readFileSync(join(dir, 'trace'), 'utf8').trim().split('\n');
const arg = (name: string, value: string) => ({ arguments: { parameters: [{ name, value }] } });
const byDisplayName = (state: RunState, name: string): NodeState => {
  const node = Object.values(state.nodes).find((n) => n.displayName === name);
  if (!node) throw new Error(`no node ${name} in ${Object.values(state.nodes).map((n) => n.displayName).join(', ')}`);
  return node;
};

async function run(e: LocalEngine, manifest: Record<string, unknown>, parameters?: Record<string, string>): Promise<RunState> {
  const { name } = await e.submit(manifest, { parameters });
  return e.wait(name, { signal: AbortSignal.timeout(20_000) });
}

describe('local engine: DAG semantics', () => {
  it('runs a task after its dependencies, and independent tasks at the same time', async () => {
    freshDir();
    const step = (name: string) => ({
      name,
      ...sh(`mkdir -p ${dir}; echo ${name}-start >> ${dir}/trace; sleep 0.4; echo ${name}-end >> ${dir}/trace`),
    });
    const state = await run(
      engine(),
      workflow([
        dag([
          { name: 'a', template: 'a' },
          { name: 'b', template: 'b', dependencies: ['a'] },
          { name: 'c', template: 'c', dependencies: ['a'] },
          { name: 'd', template: 'd', dependencies: ['b', 'c'] },
        ]),
        step('a'),
        step('b'),
        step('c'),
        step('d'),
      ]),
    );
    expect(state.phase).toBe('Succeeded');
    const lines = trace();
    expect(lines.slice(0, 2)).toEqual(['a-start', 'a-end']);
    // b and c overlap: both start before either ends.
    expect(lines.slice(2, 4).sort()).toEqual(['b-start', 'c-start']);
    expect(lines.slice(4, 6).sort()).toEqual(['b-end', 'c-end']);
    expect(lines.slice(6)).toEqual(['d-start', 'd-end']);
    const d = byDisplayName(state, 'd');
    expect(d.startedAt >= byDisplayName(state, 'b').finishedAt!).toBe(true);
    expect(d).toMatchObject({ type: 'Pod', phase: 'Succeeded', templateName: 'd', name: `${state.name}.d` });
    expect(state.nodes[state.name]).toMatchObject({ type: 'DAG', phase: 'Succeeded', displayName: state.name });
  });

  it('fans out over a withParam list from an output parameter, with {{item}} and {{item.field}}', async () => {
    freshDir();
    const state = await run(
      engine(),
      workflow([
        dag([
          { name: 'gen', template: 'gen' },
          { name: 'fan', template: 'echo', dependencies: ['gen'], withParam: '{{tasks.gen.outputs.parameters.items}}', ...arg('msg', 'param {{item}}') },
          { name: 'objects', template: 'echo', withItems: [{ n: 'x' }, { n: 'y' }], ...arg('msg', 'object {{item.n}}') },
        ]),
        {
          name: 'gen',
          ...sh('echo \'["a","b","c"]\' > /tmp-out/items', { volumeMounts: [{ name: 'out', mountPath: '/tmp-out' }] }),
          volumes: [{ name: 'out', emptyDir: {} }],
          outputs: { parameters: [{ name: 'items', valueFrom: { path: '/tmp-out/items' } }] },
        },
        echoTemplate(),
      ]),
    );
    expect(state.phase).toBe('Succeeded');
    expect(trace().sort()).toEqual(['object x', 'object y', 'param a', 'param b', 'param c']);
    const group = byDisplayName(state, 'fan');
    expect(group).toMatchObject({ type: 'TaskGroup', phase: 'Succeeded' });
    expect(group.children!.map((id) => state.nodes[id]!.displayName)).toEqual(['fan(0:a)', 'fan(1:b)', 'fan(2:c)']);
    expect(byDisplayName(state, 'objects(1:n:y)').inputs).toEqual({ parameters: [{ name: 'msg', value: 'object y' }] });
    expect(byDisplayName(state, 'gen').outputs?.parameters).toEqual([{ name: 'items', value: '["a","b","c"]' }]);
  });

  it('treats an empty withParam list as a task that succeeded with no items, and runs its dependents', async () => {
    freshDir();
    const state = await run(
      engine(),
      workflow([
        dag([
          { name: 'none', template: 'echo', withParam: '[]', ...arg('msg', '{{item}}') },
          { name: 'after', template: 'echo', dependencies: ['none'], ...arg('msg', 'after') },
        ]),
        echoTemplate(),
      ]),
    );
    expect(state.phase).toBe('Succeeded');
    expect(byDisplayName(state, 'none')).toMatchObject({ type: 'TaskGroup', phase: 'Succeeded' });
    expect(byDisplayName(state, 'none').children).toBeUndefined();
    expect(trace()).toEqual(['after']);
  });

  it('skips a task whose when is false, runs its dependents, and feeds outputs into when and arguments', async () => {
    freshDir();
    const state = await run(
      engine(),
      workflow([
        dag([
          { name: 'decide', template: 'decide' },
          { name: 'no', template: 'echo', dependencies: ['decide'], when: '{{tasks.decide.outputs.parameters.run}} == true', ...arg('msg', 'no') },
          { name: 'yes', template: 'echo', dependencies: ['decide'], when: '{{tasks.decide.outputs.parameters.run}} == false && {{tasks.decide.outputs.parameters.word}} != hello', ...arg('msg', 'yes {{tasks.decide.outputs.parameters.word}}') },
          { name: 'quoted', template: 'echo', dependencies: ['decide'], when: "'{{tasks.decide.outputs.parameters.word}}' == 'hi' || false", ...arg('msg', 'result {{tasks.decide.outputs.result}}') },
          { name: 'after', template: 'echo', dependencies: ['no'], ...arg('msg', 'after') },
        ]),
        {
          name: 'decide',
          ...sh('echo false > /out/run; printf hi > /out/word; echo printed', { volumeMounts: [{ name: 'out', mountPath: '/out' }] }),
          volumes: [{ name: 'out', emptyDir: {} }],
          outputs: { parameters: [{ name: 'run', valueFrom: { path: '/out/run' } }, { name: 'word', valueFrom: { path: '/out/word' } }] },
        },
        echoTemplate(),
      ]),
    );
    expect(state.phase).toBe('Succeeded');
    expect(byDisplayName(state, 'no')).toMatchObject({ type: 'Skipped', phase: 'Skipped', message: "when 'false == true' evaluated false" });
    expect(trace().sort()).toEqual(['after', 'result printed', 'yes hi']);
  });

  it('runs a containerSet in dependency order, sharing an emptyDir volume mapped to a host directory', async () => {
    const state = await run(
      engine(),
      workflow([
        {
          name: 'main',
          volumes: [{ name: 'work', emptyDir: {} }],
          containerSet: {
            volumeMounts: [{ name: 'work', mountPath: '/archipel/work' }],
            containers: [
              { name: 'stage', command: ['/bin/sh', '-c', 'sleep 0.2; echo staged > /archipel/work/data'] },
              { name: 'main', command: ['/bin/sh', '-c', 'cat /archipel/work/data > "$OUT"; echo main >> "$OUT"'], env: [{ name: 'OUT', value: '/archipel/work/out' }], dependencies: ['stage'] },
              { name: 'collect', command: ['/bin/sh'], args: ['-c', 'echo collected >> /archipel/work/out'], dependencies: ['main'] },
            ],
          },
          outputs: { parameters: [{ name: 'out', valueFrom: { path: '/archipel/work/out' } }] },
        },
      ]),
    );
    expect(state.phase).toBe('Succeeded');
    const pod = state.nodes[state.name]!;
    expect(pod.outputs?.parameters).toEqual([{ name: 'out', value: 'staged\nmain\ncollected' }]);
    expect(readFileSync(join(root, 'work', state.name, pod.id, 'volumes', 'work', 'data'), 'utf8')).toBe('staged\n');
  });

  it('fails the run when a task fails, naming the task, and starts no new task (failFast)', async () => {
    freshDir();
    const e = engine();
    const state = await run(
      e,
      workflow([
        dag([
          { name: 'bad', template: 'bad' },
          { name: 'slow', template: 'slow' },
          { name: 'after-bad', template: 'echo', dependencies: ['bad'], ...arg('msg', 'after-bad') },
          { name: 'after-slow', template: 'echo', dependencies: ['slow'], ...arg('msg', 'after-slow') },
        ]),
        { name: 'bad', ...sh('echo oops >&2; exit 3') },
        { name: 'slow', ...sh(`sleep 0.5; mkdir -p ${dir}; echo slow >> ${dir}/trace`) },
        echoTemplate(),
      ]),
    );
    expect(state.phase).toBe('Failed');
    expect(state.message).toBe("task 'bad' failed: Error (exit code 3)");
    expect(trace()).toEqual(['slow']); // the running task finished; nothing started after the failure
    const bad = byDisplayName(state, 'bad');
    expect(bad).toMatchObject({ phase: 'Failed', outputs: { exitCode: '3' } });
    expect(await e.logs(state.name, bad.id)).toBe('oops\n');
  });

  it('lets depends handle a failure and continueOn pass one, and passes outputs out of a nested DAG', async () => {
    freshDir();
    const state = await run(
      engine(),
      workflow([
        dag([
          { name: 'bad', template: 'bad' },
          { name: 'handler', template: 'echo', depends: 'bad.Failed', ...arg('msg', 'handled') },
          { name: 'tolerated', template: 'bad', continueOn: { failed: true } },
          { name: 'inner', template: 'inner', dependencies: ['tolerated'], ...arg('word', 'nested') },
          { name: 'use', template: 'echo', dependencies: ['inner'], ...arg('msg', 'got {{tasks.inner.outputs.parameters.said}}') },
        ]),
        { name: 'bad', ...sh('exit 1') },
        {
          name: 'inner',
          inputs: { parameters: [{ name: 'word' }] },
          dag: { tasks: [{ name: 'say', template: 'say', ...arg('w', '{{inputs.parameters.word}}') }] },
          outputs: { parameters: [{ name: 'said', valueFrom: { parameter: '{{tasks.say.outputs.result}}' } }] },
        },
        { name: 'say', inputs: { parameters: [{ name: 'w' }] }, ...sh('echo "said {{inputs.parameters.w}}"') },
        echoTemplate(),
      ]),
    );
    expect(state.phase).toBe('Succeeded');
    expect(trace().sort()).toEqual(['got said nested', 'handled']);
    expect(byDisplayName(state, 'inner')).toMatchObject({ type: 'DAG', outputs: { parameters: [{ name: 'said', value: 'said nested' }] } });
    expect(byDisplayName(state, 'say').name).toBe(`${state.name}.inner.say`);
  });

  it('retries a failing template up to retryStrategy.limit', async () => {
    freshDir();
    const flaky = (name: string, limit: number) => ({
      name,
      retryStrategy: { limit },
      ...sh(`mkdir -p ${dir}; n=$(cat ${dir}/${name} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/${name}; [ $n -ge 3 ]`),
    });
    const state = await run(
      engine(),
      workflow([{ name: 'main', dag: { tasks: [{ name: 'ok', template: 'ok' }, { name: 'ko', template: 'ko' }], failFast: false } }, flaky('ok', 3), flaky('ko', 1)]),
    );
    const ok = byDisplayName(state, 'ok');
    expect(ok).toMatchObject({ type: 'Retry', phase: 'Succeeded' });
    expect(ok.children!.map((id) => state.nodes[id]!.phase)).toEqual(['Failed', 'Failed', 'Succeeded']);
    const ko = byDisplayName(state, 'ko');
    expect(ko).toMatchObject({ type: 'Retry', phase: 'Failed', message: 'No more retries left' });
    expect(ko.children).toHaveLength(2);
    expect(state.phase).toBe('Failed');
    expect(state.message).toBe("task 'ko(1)' failed: Error (exit code 1)");
  });

  it('kills a pod that outlives its activeDeadlineSeconds, and a run that outlives the workflow deadline', async () => {
    freshDir();
    const e = engine();
    const started = Date.now();
    const state = await run(
      e,
      workflow([dag([{ name: 'sleepy', template: 'sleepy' }]), { name: 'sleepy', activeDeadlineSeconds: 1, ...sh(`sleep 30; touch ${dir}/woke`) }]),
    );
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(state.phase).toBe('Failed');
    expect(state.message).toBe("task 'sleepy' failed: Pod was active on the node longer than the specified deadline");

    const whole = await run(e, workflow([dag([{ name: 'sleepy', template: 'sleepy' }]), { name: 'sleepy', ...sh(`sleep 30; touch ${dir}/woke`) }], { activeDeadlineSeconds: 1 }));
    expect(whole).toMatchObject({ phase: 'Failed', message: 'Max duration limit exceeded' });
    expect(byDisplayName(whole, 'sleepy')).toMatchObject({ phase: 'Failed', message: 'Max duration limit exceeded' });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(existsSync(join(dir, 'woke'))).toBe(false);
  });

  it('stops a run on request', async () => {
    const e = engine();
    const { name } = await e.submit(workflow([dag([{ name: 'sleepy', template: 'sleepy' }]), { name: 'sleepy', ...sh('sleep 30') }]));
    await waitFor(async () => Object.values((await e.get(name)).nodes).some((n) => n.type === 'Pod' && n.phase === 'Running'));
    const stopped = await e.stop(name);
    expect(stopped).toMatchObject({ phase: 'Failed', message: "Stopped with strategy 'Stop'" });
  });

  it('retries a run as soon as it shows as failed, while its last state is still being written', async () => {
    // Every write of the run's state is slowed down, so that it is still writing when `get` shows Failed.
    const db = database.db;
    const slow: SqlDatabase = {
      query: (text, params, options) => db.query(text, params, options),
      async transaction(work, options) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return db.transaction(work, options);
      },
      close: async () => {},
    };
    const e = engine({ db: slow });
    const { name } = await e.submit(workflow([dag([{ name: 'broken', template: 'broken' }]), { name: 'broken', ...sh('exit 2') }]));
    await waitFor(async () => (await e.get(name)).phase === 'Failed');
    await e.retry(name);
    expect((await e.wait(name, { signal: AbortSignal.timeout(20_000) })).phase).toBe('Failed');
    await waitFor(async () => (await e.get(name)).phase === 'Failed');
    await e.delete(name);
    await expect(e.get(name)).rejects.toMatchObject({ kind: 'not-found' });
  });
});

describe('local engine: resources', () => {
  it('never runs more pods at once than the cores allow', async () => {
    freshDir();
    const task = (name: string) => ({ name, template: 'work', ...arg('name', name) });
    const state = await run(
      engine({ cores: 2 }),
      workflow([
        dag(['w1', 'w2', 'w3', 'w4'].map(task)),
        {
          name: 'work',
          inputs: { parameters: [{ name: 'name' }] },
          ...sh(`mkdir -p ${dir}; date +%s%N > ${dir}/{{inputs.parameters.name}}.start; sleep 0.4; date +%s%N > ${dir}/{{inputs.parameters.name}}.end`, {
            resources: { requests: { cpu: '1', memory: '100Mi' } },
          }),
        },
      ]),
    );
    expect(state.phase).toBe('Succeeded');
    const spans = ['w1', 'w2', 'w3', 'w4'].map((n) => [Number(readFileSync(join(dir, `${n}.start`), 'utf8')), Number(readFileSync(join(dir, `${n}.end`), 'utf8'))] as const);
    const overlap = (t: number) => spans.filter(([s, e]) => s <= t && t < e).length;
    const most = Math.max(...spans.map(([s]) => overlap(s)));
    expect(most).toBe(2);
  });

  it('fails a pod that asks for more than the machine has, instead of waiting forever', async () => {
    const e = engine({ cores: 2, memoryMiB: 1024 });
    const state = await run(e, workflow([dag([{ name: 'big', template: 'big' }]), { name: 'big', ...sh('true', { resources: { requests: { cpu: '4' } } }) }]));
    expect(state.phase).toBe('Error');
    expect(state.message).toMatch(/^task 'big' failed: the pod requests 4 cpu .* this machine has 2 cores and 1024Mi: it can never run here$/);
    const memory = await run(e, workflow([{ name: 'main', ...sh('true', { resources: { requests: { memory: '2Gi', cpu: '500m' } } }) }]));
    expect(memory.message).toMatch(/requests 0.5 cpu and 2048Mi of memory/);
  });
});

describe('local engine: persistence', () => {
  it('keeps runs and nodes in SQL: another engine on the same database sees them', async () => {
    const first = await run(engine(), workflow([dag([{ name: 'hello', template: 'hello' }]), { name: 'hello', ...sh('echo hello') }]));
    const other = engine();
    const seen = await other.get(first.name);
    expect(seen).toEqual(first);
    expect(byDisplayName(seen, 'hello').outputs?.result).toBe('hello');
    expect((await other.list()).map((r) => r.name)).toContain(first.name);
    expect(await other.logs(first.name, byDisplayName(seen, 'hello').id)).toBe('hello\n');
    await expect(other.get('no-such-run')).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('resume() runs again what a stopped node left unfinished, keeping the nodes that succeeded', async () => {
    const trace = join(freshDir(), 'trace');
    mkdirSync(dir, { recursive: true });
    // A node that "dies" during the second task: its containers hang, and it is never closed before another starts.
    const processes = createProcessRunner();
    const dying = engine({
      runContainer: (request) =>
        request.annotations.task === 'second'
          ? new Promise((resolve) => request.signal.addEventListener('abort', () => resolve({ exitCode: null, stdout: '' })))
          : processes(request),
    });
    const manifest = workflow([
      dag([
        { name: 'first', template: 'first' },
        { name: 'second', template: 'second', dependencies: ['first'] },
      ]),
      { name: 'first', ...sh(`echo first >> ${trace}; echo one`) },
      { name: 'second', metadata: { annotations: { task: 'second' } }, ...sh(`echo second >> ${trace}; echo two`) },
    ]);
    const { name } = await dying.submit(manifest);
    const restarted = engine();
    await waitFor(async () => Object.values((await restarted.get(name)).nodes).some((n) => n.displayName === 'second' && n.phase === 'Running'));
    await restarted.resume();
    const state = await restarted.wait(name);
    expect(state.phase).toBe('Succeeded');
    expect(readFileSync(trace, 'utf8')).toBe('first\nsecond\n');
    expect(byDisplayName(state, 'first').outputs?.result).toBe('one');
    expect(byDisplayName(state, 'second').outputs?.result).toBe('two');
  });

  it('resume() kills the process groups a crashed node left running', async () => {
    freshDir();
    mkdirSync(dir, { recursive: true });
    const marker = `sleep 47.${testCount}`;
    // The first engine's container is a real process; the engine then "dies" (it is never closed).
    const first = engine();
    const { name } = await first.submit(workflow([dag([{ name: 'nap', template: 'nap' }]), { name: 'nap', ...sh(`${marker}; true`) }]));
    await waitFor(async () => spawnSync('pgrep', ['-f', marker]).status === 0);
    // A restarted node: what the dead one left running is killed before the run executes again.
    const restarted = engine({ runContainer: async () => ({ exitCode: 0, stdout: '' }) });
    await restarted.resume();
    await waitFor(async () => spawnSync('pgrep', ['-f', marker]).status !== 0);
    expect((await restarted.wait(name)).phase).toBe('Succeeded');
  });

  it('close() leaves the runs in progress to resume at the next start', async () => {
    const hanging = engine({ runContainer: ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ exitCode: null, stdout: '' }))) });
    const { name } = await hanging.submit(workflow([dag([{ name: 'later', template: 'later' }]), { name: 'later', ...sh('echo done') }]));
    await waitFor(async () => Object.values((await hanging.get(name)).nodes).some((n) => n.type === 'Pod' && n.phase === 'Running'));
    await hanging.close();
    expect((await engine().get(name)).phase).toBe('Running');
    const next = engine();
    await next.resume();
    const state = await next.wait(name);
    expect(state.phase).toBe('Succeeded');
    expect(byDisplayName(state, 'later').outputs?.result).toBe('done');
  });
});

describe('local engine: submission', () => {
  it('refuses manifests it cannot run, with every problem named', async () => {
    const e = engine();
    await expect(e.submit(workflow([{ name: 'main', steps: [[{ name: 'a', template: 'a' }]] }]))).rejects.toBeInstanceOf(NotImplementedError);
    const invalid = e.submit(workflow([dag([{ name: 'a', template: 'nope', dependencies: ['ghost'] }])]));
    await expect(invalid).rejects.toBeInstanceOf(InvalidInputError);
    await expect(invalid).rejects.toMatchObject({
      issues: [
        { path: 'spec.templates.0.dag.tasks.0.template', message: 'no template named "nope"' },
        { path: 'spec.templates.0.dag.tasks.0.dependencies', message: 'no task named "ghost"' },
      ],
    });
    const needsValue = workflow([{ name: 'main', ...sh('echo {{workflow.parameters.store}}') }], { arguments: { parameters: [{ name: 'store' }] } });
    await expect(e.submit(needsValue)).rejects.toMatchObject({ issues: [{ path: 'spec.arguments.parameters.store.value' }] });
    const state = await run(e, needsValue, { store: 's3://bucket/x' });
    expect(state.nodes[state.name]!.outputs?.result).toBe('s3://bucket/x');
  });
});

describe('local engine: translated CWL workflows', () => {
  it('runs the manifest the translator emits, with `archipel` mapped to a stand-in step command', async () => {
    freshDir();
    const cwlDir = join(dir, 'cwl');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(cwlDir, { recursive: true });
    writeFileSync(join(cwlDir, 'tool.cwl'), 'cwlVersion: v1.2\nclass: CommandLineTool\ninputs: {}\noutputs: {}\nbaseCommand: "true"\n');
    writeFileSync(
      join(cwlDir, 'wf.cwl'),
      'cwlVersion: v1.2\nclass: Workflow\ninputs: {}\noutputs: {}\nsteps:\n  first: {run: tool.cwl, in: {}, out: []}\n',
    );
    // The stand-in plays `archipel step <command>`: prepare decides to run two items, stage writes run.sh.
    const stepScript = join(dir, 'step.sh');
    writeFileSync(
      stepScript,
      [
        'log=$1; cmd=$3; shift 3',
        'while [ $# -gt 1 ]; do case $1 in --out) out=$2;; --work) work=$2;; --step) step=$2;; --item) item=$2;; esac; shift 2; done',
        'echo "$cmd $step $item" >> "$log"',
        'case $cmd in',
        '  prepare) mkdir -p "$out"; echo true > "$out/run"; echo \'["0","1"]\' > "$out/items";;',
        '  stage) echo "echo main \'$item\' >> \'$log\'" > "$work/run.sh";;',
        'esac',
      ].join('\n'),
    );
    const { loadCwlProcess } = await import('../cwl/index.ts');
    const { asWorkflow, translateWorkflow } = await import('../translate/index.ts');
    const manifest = translateWorkflow(asWorkflow(await loadCwlProcess(join(cwlDir, 'wf.cwl'))), { runId: 'r1' });
    const log = join(dir, 'steps.log');
    const e = engine({ runContainer: (await import('./index.ts')).createProcessRunner({ commandMap: { archipel: ['/bin/sh', stepScript, log] } }) });
    const state = await run(e, manifest, { store: `file://${dir}/store` });
    expect(state.phase).toBe('Succeeded');
    const lines = readFileSync(log, 'utf8').split('\n').slice(0, -1);
    const at = (line: string) => lines.indexOf(line);
    expect(lines.filter((l) => l.startsWith('main')).sort()).toEqual(['main 0', 'main 1']);
    for (const item of ['0', '1']) {
      expect(at('prepare first ')).toBeLessThan(at(`stage first ${item}`));
      expect(at(`stage first ${item}`)).toBeLessThan(at(`main ${item}`));
      expect(at(`main ${item}`)).toBeLessThan(at(`collect first ${item}`));
      expect(at(`collect first ${item}`)).toBeLessThan(at('gather first '));
    }
    expect(lines).toContain('finish  ');
    expect(readdirSync(join(root, 'work', state.name)).length).toBeGreaterThan(0);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
