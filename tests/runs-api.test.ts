import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.ts';
import { catalogServices } from '../cli/catalog-services.ts';
import { createDataInputs } from '../cli/data-inputs.ts';
import { createOutputStorage } from '../cli/output-storage.ts';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createDirectoryGrantProvider, createEntryAccess, createGrantService, createS3GrantProvider } from '../providers/index.ts';
import { startS3rver, type S3rverHandle } from '../platform/object-store/testing.ts';
import { createStepRunner } from '../cli/step-runner.ts';
import { createCatalogService, localCaller, type CatalogService } from '../catalog/index.ts';
import { ConflictError, silentLogger, type ObjectStore, type SqlDatabase } from '../core/index.ts';
import { createIdentityService, type IdentityService } from '../frontend-backend/index.ts';
import { createFileRoutes, createFileService, createLocalEngine, createProcessRunner, createRunRoutes, createRunService, type LocalEngine, type RunService } from '../orchestrator/index.ts';
import { API_PREFIX, createHttpApp } from '../platform/http/index.ts';
import { createDirectoryObjectStore } from '../platform/object-store/index.ts';
import { createTestDatabase } from '../platform/sql/testing.ts';
import { ARCHIPEL_BIN } from './support/archipel-process.ts';
import { aliasBomb } from './support/alias-bomb.ts';

/** The runs and files API of a node, in process: the run service on the local engine, as `archipel up` wires it. */

const UPPER_COUNT = `cwlVersion: v1.2
class: Workflow
inputs:
  infile: File
outputs:
  counted: {type: File, outputSource: count/out}
  shouted: {type: File, outputSource: upper/out}
steps:
  upper:
    run:
      class: CommandLineTool
      baseCommand: [tr, a-z, A-Z]
      stdin: $(inputs.f.path)
      inputs: {f: File}
      stdout: upper.txt
      outputs: {out: stdout}
    in: {f: infile}
    out: [out]
  count:
    run:
      class: CommandLineTool
      baseCommand: [wc, -c]
      stdin: $(inputs.f.path)
      inputs: {f: File}
      stdout: count.txt
      outputs: {out: stdout}
    in: {f: upper/out}
    out: [out]
`;

const SLEEPER = `cwlVersion: v1.2
class: CommandLineTool
id: nap
baseCommand: [sh, -c, 'echo dozing >&2; exec sleep 61.25']
inputs: {}
outputs: {}
`;

const ECHO = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  message: {type: string, inputBinding: {position: 1}}
stdout: said.txt
outputs:
  said: stdout
`;

/** Whether a process whose command line contains `text` runs on this machine. */
function processesRunning(text: string): boolean {
  return spawnSync('pgrep', ['-f', text]).status === 0;
}

interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
      return { id: Number(field('id')), event: field('event')!, data: JSON.parse(field('data')!) as Record<string, unknown> };
    });
}

describe('runs API', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let store: ObjectStore;
  let engine: LocalEngine;
  let runs: RunService;
  let catalog: CatalogService;
  let identity: IdentityService;
  let s3: S3rverHandle;
  let app: ReturnType<typeof createHttpApp>;
  const root = mkdtempSync(path.join(tmpdir(), 'archipel-runs-api-'));
  const tokens: Record<string, string> = {};

  const call = (user: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(`${API_PREFIX}${url}`, {
      method,
      headers: { Authorization: `Bearer ${tokens[user]}`, ...(body === undefined || body instanceof Uint8Array ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
    });
  const upload = async (user: string, name: string, text: string) => {
    const res = await call(user, 'POST', `/files?name=${encodeURIComponent(name)}`, new TextEncoder().encode(text));
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string; location: string; size: number; sha256: string };
  };
  const submit = async (user: string, body: Record<string, unknown>) => call(user, 'POST', '/runs', { project: 'genomics', ...body });
  const events = async (user: string, id: string, headers: Record<string, string> = {}) => {
    const res = await call(user, 'GET', `/runs/${id}/events`, undefined, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    return parseSse(await res.text());
  };
  const count = async (table: string) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  const runObjects = async () => {
    const keys: string[] = [];
    for await (const info of store.list('runs/')) keys.push(info.key);
    return keys;
  };

  beforeAll(async () => {
    ({ db, cleanup } = await createTestDatabase());
    identity = createIdentityService({ db });
    tokens.admin = (await identity.bootstrapAdmin())!.token;
    const admin = await identity.authenticate(tokens.admin);
    for (const name of ['alice', 'bob']) {
      const user = await identity.createUser(admin, { name });
      tokens[name] = (await identity.createToken({ userId: user.id, userName: name, isAdmin: false, tokenId: 'setup' }, { name: 'test' })).token;
    }
    await identity.createProject(admin, { name: 'genomics' });
    await identity.addMember(admin, 'genomics', { user: 'alice', role: 'member' });
    await identity.createProject(admin, { name: 'physics' });
    await identity.addMember(admin, 'physics', { user: 'bob', role: 'member' });

    const storeDir = path.join(root, 'objects');
    store = createDirectoryObjectStore({ root: storeDir });
    const storeUrl = pathToFileURL(storeDir).href;
    engine = createLocalEngine({
      db,
      workRoot: path.join(root, 'engine'),
      runContainer: createStepRunner(createProcessRunner({ commandMap: { archipel: [process.execPath, ARCHIPEL_BIN] }, killGraceMs: 500 }), { openStore: async () => store }),
    });
    await engine.resume();
    const files = createFileService({ db, store, maxBytes: 1024 * 1024 });
    catalog = createCatalogService({ db, clusterId: () => 'clusterA', users: identity });
    s3 = await startS3rver();
    const s3Grants = createS3GrantProvider({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, ...s3.credentials });
    const grants = createGrantService({ db, providers: { directory: createDirectoryGrantProvider({ root: path.join(root, 'grants') }), s3: s3Grants } });
    const entryAccess = createEntryAccess({ catalog, grants });
    const storage = createOutputStorage({ catalog, entryAccess, grants, memberProjectNames: (userId) => identity.memberProjectNames(userId) });
    const data = createDataInputs({ catalog, entryAccess, grants });
    // The federation as a plan sees it: this cluster, a big peer with GPUs, and a peer that did not answer.
    const federation = async () => [
      { id: 'clusterA', name: 'alpha', local: true, peered: true, reachable: true, free: { cores: 4, memoryMiB: 8192, gpus: 0 } },
      { id: 'clusterB', name: 'bravo', local: false, peered: true, reachable: true, free: { cores: 16, memoryMiB: 65536, gpus: 2 } },
      { id: 'clusterC', name: 'charlie', local: false, peered: true, reachable: false, free: { cores: 0, memoryMiB: 0, gpus: 0 } },
    ];
    runs = createRunService({ db, store, storeUrl, engine, files, clusterId: () => 'clusterA', containers: false, pollIntervalMs: 50, services: catalogServices(catalog), storage, data, federation });
    await runs.start();
    const memberProjectNames = (userId: string) => identity.memberProjectNames(userId);
    app = createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createRunRoutes({ runs, memberProjectNames }), createFileRoutes({ files, memberProjectNames })],
      maxBodyBytes: 256 * 1024,
      streamedBodyPaths: ['/files'],
      version: 'test',
    });
  });
  afterAll(async () => {
    await runs?.stop();
    await engine?.close();
    await cleanup?.();
    await s3?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a two-step workflow on an uploaded file: steps, events to the end, outputs to download', async () => {
    const input = await upload('alice', 'in.txt', 'hello world\n');
    expect(input).toMatchObject({ size: 12, location: `archipel:files/${input.id}` });
    const res = await submit('alice', { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: input.location } }, name: 'shout and count', labels: { batch: '7' } });
    expect(res.status, await res.clone().text()).toBe(201);
    const run = (await res.json()) as { id: string; phase: string; steps: { step: string; phase: string; kind?: string; scatter?: boolean; needs?: string[] }[] };
    expect(run.phase).toBe('Pending');
    expect(run.steps.map((s) => s.step)).toEqual(['upper', 'count']);
    // The DAG the portal draws: count reads upper's output.
    expect(run.steps.map((s) => [s.step, s.kind, s.scatter, s.needs])).toEqual([
      ['upper', 'CommandLineTool', false, []],
      ['count', 'CommandLineTool', false, ['upper']],
    ]);

    const seen = await events('alice', run.id);
    expect(seen.at(-1)).toMatchObject({ event: 'run', data: { phase: 'Succeeded' } });
    expect(seen.filter((e) => e.event === 'step' && e.data.phase === 'Succeeded').map((e) => e.data.step)).toEqual(['upper', 'count']);
    expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort((a, b) => a - b));

    const got = (await (await call('alice', 'GET', `/runs/${run.id}`)).json()) as { phase: string; name: string; labels: Record<string, string>; steps: { step: string; phase: string; cluster: string; exitCode: number; startedAt: string; finishedAt: string }[] };
    expect(got).toMatchObject({ phase: 'Succeeded', name: 'shout and count', labels: { batch: '7' } });
    for (const step of got.steps) {
      expect(step).toMatchObject({ phase: 'Succeeded', cluster: 'clusterA', exitCode: 0 });
      expect(Date.parse(step.finishedAt)).toBeGreaterThanOrEqual(Date.parse(step.startedAt));
    }

    const outputs = (await (await call('alice', 'GET', `/runs/${run.id}/outputs`)).json()) as Record<string, { class: string; location: string; size: number }>;
    expect(outputs.counted).toMatchObject({ class: 'File', size: 3 });
    const shouted = await call('alice', 'GET', new URL(outputs.shouted!.location).pathname.slice(API_PREFIX.length));
    expect(await shouted.text()).toBe('HELLO WORLD\n');
    const counted = await call('alice', 'GET', new URL(outputs.counted!.location).pathname.slice(API_PREFIX.length));
    expect((await counted.text()).trim()).toBe('12');

    // Each step's own outputs, linked the same way; a step that does not exist is a 404.
    const stepOut = (await (await call('alice', 'GET', `/runs/${run.id}/steps/upper/outputs`)).json()) as Record<string, { class: string; location: string }>;
    expect(stepOut.out).toMatchObject({ class: 'File', basename: 'upper.txt' });
    expect(await (await call('alice', 'GET', new URL(stepOut.out!.location).pathname.slice(API_PREFIX.length))).text()).toBe('HELLO WORLD\n');
    expect((await call('alice', 'GET', `/runs/${run.id}/steps/nothere/outputs`)).status).toBe(404);
    expect((await call('bob', 'GET', `/runs/${run.id}/steps/upper/outputs`)).status).toBe(404);

    // Listing by project, phase and label.
    const listed = (await (await call('alice', 'GET', '/runs?phase=Succeeded&label=batch=7')).json()) as { items: { id: string }[] };
    expect(listed.items.map((r) => r.id)).toEqual([run.id]);
    expect(((await (await call('alice', 'GET', '/runs?label=batch=8')).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("serves the outputs of a step inside a subworkflow step", async () => {
    const cwl = `cwlVersion: v1.2
class: Workflow
requirements: {SubworkflowFeatureRequirement: {}}
inputs: {word: string}
outputs:
  said: {type: File, outputSource: outer/said}
steps:
  outer:
    in: {word: word}
    out: [said]
    run:
      class: Workflow
      inputs: {word: string}
      outputs:
        said: {type: File, outputSource: speak/out}
      steps:
        speak:
          in: {w: word}
          out: [out]
          run:
            class: CommandLineTool
            baseCommand: echo
            inputs: {w: {type: string, inputBinding: {position: 1}}}
            stdout: spoken.txt
            outputs: {out: stdout}
`;
    const { id } = (await (await submit('alice', { cwl, job: { word: 'nested' } })).json()) as { id: string };
    expect((await events('alice', id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    const res = await call('alice', 'GET', `/runs/${id}/steps/${encodeURIComponent('outer/speak')}/outputs`);
    expect(res.status, await res.clone().text()).toBe(200);
    const out = ((await res.json()) as Record<string, { location: string; basename: string }>).out!;
    expect(out.basename).toBe('spoken.txt');
    expect(await (await call('alice', 'GET', new URL(out.location).pathname.slice(API_PREFIX.length))).text()).toBe('nested\n');
  });

  it('plans a run without running it: each step where its data, its GPUs or its pin say, and why', async () => {
    const input = await upload('alice', 'reads.txt', 'x'.repeat(100_000));
    const cwl = UPPER_COUNT.replace(
      "      baseCommand: [wc, -c]",
      "      hints: {'arc:GPURequirement': {count: 1}}\n      baseCommand: [wc, -c]",
    ).replace('class: Workflow', 'class: Workflow\n$namespaces: {arc: "https://archipel.io/cwl#"}');
    const before = await count('runs');
    const res = await call('alice', 'POST', '/runs?dryRun=true', { project: 'genomics', cwl, job: { infile: { class: 'File', location: input.location } } });
    expect(res.status, await res.clone().text()).toBe(200);
    const plan = (await res.json()) as { dryRun: boolean; steps: { step: string; cluster: string; reasons: string[]; excluded: { cluster: string; why: string }[] }[]; clusters: { id: string }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.clusters.map((c) => c.id)).toEqual(['clusterA', 'clusterB', 'clusterC']);
    // upper reads the upload, which is here; count asks for a GPU, which only bravo has.
    expect(plan.steps.map((s) => [s.step, s.cluster])).toEqual([
      ['upper', 'clusterA'],
      ['count', 'clusterB'],
    ]);
    expect(plan.steps[0]!.reasons[0]).toBe('100% of the 100000 bytes it reads are there');
    expect(plan.steps[1]!.excluded).toEqual([
      { cluster: 'clusterA', why: 'not enough free: 1 GPUs asked, 0 free' },
      { cluster: 'clusterC', why: 'not reachable' },
    ]);
    expect(await count('runs')).toBe(before);

    // The request's placement: pinned to an unreachable cluster is no plan, naming the step; a real run
    // pinned elsewhere is refused by a node that cannot run steps on peers; one pinned here runs.
    const pinned = await call('alice', 'POST', '/runs?dryRun=true', { project: 'genomics', cwl: UPPER_COUNT, job: {}, placement: { upper: { cluster: 'clusterC' } } });
    expect(pinned.status).toBe(400);
    expect(((await pinned.json()) as { error: { message: string } }).error.message).toMatch(/^step upper \(asks for 1 cores, 256 MiB, 0 GPUs\) fits no cluster: clusterA: the step is pinned to clusterC; .*clusterC: not reachable/);
    const unknown = await call('alice', 'POST', '/runs?dryRun=true', { project: 'genomics', cwl: UPPER_COUNT, job: {}, placement: { nope: { cluster: 'clusterB' } } });
    expect(unknown.status).toBe(400);
    const elsewhere = await submit('alice', { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: input.location } }, placement: { count: { cluster: 'clusterB' } } });
    expect(elsewhere.status).toBe(501);
    expect(((await elsewhere.json()) as { error: { message: string } }).error.message).toMatch(/step count is pinned to cluster clusterB/);
    expect(await count('runs')).toBe(before);
    const here = await submit('alice', { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: input.location } }, placement: { count: { cluster: 'clusterA' } } });
    expect(here.status, await here.clone().text()).toBe(201);
    expect((await events('alice', ((await here.json()) as { id: string }).id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    // Another project's member plans nothing in alice's project.
    expect((await call('bob', 'POST', '/runs?dryRun=true', { project: 'genomics', cwl: UPPER_COUNT, job: {} })).status).toBe(404);
  });

  it('keeps an upload while a run that reads it has not ended', async () => {
    const input = await upload('alice', 'slow.txt', 'read me later\n');
    const cwl = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'sleep 1; cat "$0"']
inputs:
  f: {type: File, inputBinding: {position: 1}}
stdout: out.txt
outputs:
  out: stdout
`;
    const { id } = (await (await submit('alice', { cwl, job: { f: { class: 'File', location: input.location } } })).json()) as { id: string };
    const early = await call('alice', 'DELETE', `/files/${input.id}`);
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { message: string } }).error.message).toBe(`file "${input.id}" is an input of run ${id}, which has not ended: delete the file once the run has ended`);
    expect((await events('alice', id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    const outputs = (await (await call('alice', 'GET', `/runs/${id}/outputs`)).json()) as Record<string, { location: string }>;
    expect(await (await call('alice', 'GET', new URL(outputs.out!.location).pathname.slice(API_PREFIX.length))).text()).toBe('read me later\n');
    expect((await call('alice', 'DELETE', `/files/${input.id}`)).status).toBe(204);
    expect((await call('alice', 'GET', `/files/${input.id}`)).status).toBe(404);
    // A failed run whose upload is gone cannot be retried: it says so instead of failing again.
    const other = await upload('alice', 'other.txt', 'x\n');
    const failing = cwl.replace('cat "$0"', 'cat "$0"; exit 3');
    const { id: failed } = (await (await submit('alice', { cwl: failing, job: { f: { class: 'File', location: other.location } } })).json()) as { id: string };
    expect((await events('alice', failed)).at(-1)).toMatchObject({ data: { phase: 'Failed' } });
    expect((await call('alice', 'DELETE', `/files/${other.id}`)).status).toBe(204);
    const retried = await call('alice', 'POST', `/runs/${failed}/retry`);
    expect(retried.status).toBe(409);
    expect(((await retried.json()) as { error: { message: string } }).error.message).toContain(`reads uploaded files that were deleted since (${other.id})`);
  });

  it('in cluster mode, runs a step where its plan puts it, with compute reserved there for the run', async () => {
    const reserved: { cluster: string; requests: unknown; id: string }[] = [];
    const released: string[] = [];
    let refuse: string | undefined;
    const federation = async () => [
      { id: 'clusterA', local: true, peered: true, reachable: true, free: { cores: 4, memoryMiB: 8192, gpus: 0 } },
      { id: 'clusterB', name: 'bravo', local: false, peered: true, reachable: true, free: { cores: 16, memoryMiB: 65536, gpus: 2 } },
    ];
    // The local engine stands in for Argo with Admiralty: it runs every pod here, whatever their annotations.
    const clusterRuns = createRunService({
      db, store, storeUrl: pathToFileURL(path.join(root, 'objects')).href, engine, files: createFileService({ db, store, maxBytes: 1024 * 1024 }), clusterId: () => 'clusterA', containers: false, pollIntervalMs: 50, federation,
      crossCluster: {
        async reserve(_caller, cluster, requests) {
          if (refuse && cluster === 'clusterB' && reserved.length >= 2) throw new ConflictError(refuse);
          const id = `res-${reserved.length + 1}`;
          reserved.push({ cluster, requests, id });
          return id;
        },
        async release(_owner, _cluster, id) {
          released.push(id);
        },
      },
    });
    await clusterRuns.start();
    try {
      const alice = { principal: await identity.authenticate(tokens.alice!), projects: ['genomics'] };
      const input = await upload('alice', 'in.txt', 'placed\n');
      const gpu = (cwl: string, step: string) => (cwl.includes('$namespaces') ? cwl : cwl.replace('class: Workflow', 'class: Workflow\n$namespaces: {arc: "https://archipel.io/cwl#"}')).replace(`  ${step}:\n    run:\n      class: CommandLineTool\n`, `  ${step}:\n    run:\n      class: CommandLineTool\n      hints: {'arc:GPURequirement': {count: 1}}\n`);
      const run = await clusterRuns.submit(alice, { cwl: gpu(UPPER_COUNT, 'count'), job: { infile: { class: 'File', location: input.location } }, project: 'genomics' });
      expect(reserved).toEqual([{ cluster: 'clusterB', requests: { cores: 1, memoryMiB: 256, gpus: 1 }, id: 'res-1' }]);
      expect(run.placement).toEqual({ count: { cluster: 'clusterB', reasons: [expect.stringMatching(/^fits its 1 cores, 256 MiB, 1 GPUs with \d+% headroom$/)] } });
      for await (const e of clusterRuns.events(alice, run.id, 0, new AbortController().signal)) void e;
      const done = await clusterRuns.get(alice, run.id);
      expect(done.phase).toBe('Succeeded');
      expect(done.steps.map((st) => [st.step, st.cluster])).toEqual([
        ['upper', 'clusterA'],
        ['count', 'clusterB'],
      ]);
      expect(released).toEqual(['res-1']);
      // The Workflow that went to the engine carries Admiralty's placement on that step only.
      const row = (await db.query<{ manifest: { spec: { templates: { metadata?: { annotations?: Record<string, string> } }[] } } }>('SELECT manifest FROM runs WHERE id = $1', [run.id])).rows[0]!;
      const placed = row.manifest.spec.templates.filter((t) => t.metadata?.annotations?.['multicluster.admiralty.io/elect'] !== undefined);
      expect(placed.map((t) => t.metadata!.annotations!['archipel.io/target-cluster'])).toEqual(['clusterB']);

      // A peer that refuses the second step's compute: the first is given back, nothing of the run stays.
      refuse = 'not enough GPUs: 1 asked, 0 free';
      const before = await count('runs');
      const both = gpu(gpu(UPPER_COUNT, 'count'), 'upper');
      await expect(clusterRuns.submit(alice, { cwl: both, job: { infile: { class: 'File', location: input.location } }, project: 'genomics' })).rejects.toMatchObject({
        kind: 'conflict',
        message: 'step count cannot be readied on cluster clusterB: not enough GPUs: 1 asked, 0 free',
      });
      expect(released).toEqual(['res-1', 'res-2']);
      expect(await count('runs')).toBe(before);

      // A failed run retried: its placed step that did not succeed gets compute reserved there again,
      // given back when the retry ends.
      refuse = undefined;
      const failing = gpu(UPPER_COUNT, 'count').replace("baseCommand: [wc, -c]", "baseCommand: [sh, -c, 'exit 3']");
      const broken = await clusterRuns.submit(alice, { cwl: failing, job: { infile: { class: 'File', location: input.location } }, project: 'genomics' });
      for await (const e of clusterRuns.events(alice, broken.id, 0, new AbortController().signal)) void e;
      expect((await clusterRuns.get(alice, broken.id)).phase).toBe('Failed');
      expect(released).toEqual(['res-1', 'res-2', 'res-3']);
      await clusterRuns.retryRun(alice, broken.id);
      expect(reserved.at(-1)).toEqual({ cluster: 'clusterB', requests: { cores: 1, memoryMiB: 256, gpus: 1 }, id: 'res-4' });
      for await (const e of clusterRuns.events(alice, broken.id, 0, new AbortController().signal)) void e;
      expect((await clusterRuns.get(alice, broken.id)).phase).toBe('Failed');
      await eventually(() => expect(released).toEqual(['res-1', 'res-2', 'res-3', 'res-4']));
    } finally {
      await clusterRuns.stop();
    }
  });

  it('takes default files of the document from uploads the user may use', async () => {
    const input = await upload('alice', 'default.txt', 'from a default\n');
    const cwl = UPPER_COUNT.replace('infile: File', `infile: {type: File, default: {class: File, location: "${input.location}"}}`);
    const res = await submit('alice', { cwl, job: {} });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await events('alice', id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    const outputs = (await (await call('alice', 'GET', `/runs/${id}/outputs`)).json()) as Record<string, { location: string }>;
    expect(await (await call('alice', 'GET', new URL(outputs.shouted!.location).pathname.slice(API_PREFIX.length))).text()).toBe('FROM A DEFAULT\n');
    // Bob cannot name alice's upload in a document of his.
    const theft = await call('bob', 'POST', '/runs', { project: 'physics', cwl, job: {} });
    expect(theft.status).toBe(400);
  });

  it('resumes an event stream after Last-Event-ID', async () => {
    const res = await submit('alice', { cwl: ECHO, job: { message: 'hi' } });
    const { id } = (await res.json()) as { id: string };
    const all = await events('alice', id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const later = await events('alice', id, { 'Last-Event-ID': String(all[1]!.id) });
    expect(later).toEqual(all.slice(2));
  });

  it('sends log lines as events while a step runs, up to a limit per pod; the step log keeps everything', async () => {
    const cwl = `cwlVersion: v1.2
class: CommandLineTool
id: chatter
baseCommand: [sh, -c, 'echo one >&2; sleep 1; echo two; head -c 300000 /dev/zero | tr "\\\\0" x; echo']
inputs: {}
outputs: {}
`;
    const { id } = (await (await submit('alice', { cwl, job: {} })).json()) as { id: string };
    const seen = await events('alice', id);
    expect(seen.at(-1)).toMatchObject({ event: 'run', data: { phase: 'Succeeded' } });
    const logged = seen.filter((e) => e.event === 'log');
    for (const e of logged) {
      expect(e.data).toMatchObject({ step: 'chatter', attempt: 1 });
      expect(e.data).not.toHaveProperty('pod');
      expect(e.data).not.toHaveProperty('end');
      expect(e.data).not.toHaveProperty('item');
    }
    // The first line came while the tool slept, in an event of its own, before the step ended.
    expect(logged[0]!.data.text).toBe('one\n');
    const ended = seen.findIndex((e) => e.event === 'step' && e.data.phase === 'Succeeded');
    expect(ended).toBeGreaterThan(seen.indexOf(logged.at(-1)!));
    const text = logged.map((e) => e.data.text).join('');
    expect(text.length).toBe(256 * 1024);
    expect(text.startsWith('one\ntwo\nxxx')).toBe(true);
    expect(logged.at(-1)!.data.truncated).toBe(true);
    expect(logged.slice(0, -1).some((e) => e.data.truncated)).toBe(false);
    const full = await (await call('alice', 'GET', `/runs/${id}/steps/chatter/logs`)).text();
    expect(full).toBe(`one\ntwo\n${'x'.repeat(300000)}\n`);
  });

  it('sends each log line once across a restart of the run service', async () => {
    const cwl = `cwlVersion: v1.2
class: CommandLineTool
id: ticker
baseCommand: [sh, -c, 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.3; done']
inputs: {}
outputs: {}
`;
    const { id } = (await (await submit('alice', { cwl, job: {} })).json()) as { id: string };
    const alice = { principal: await identity.authenticate(tokens.alice!), projects: ['genomics'] };
    // Stop following once the first line is recorded; a new service takes over on the same database.
    const controller = new AbortController();
    for await (const e of runs.events(alice, id, 0, controller.signal)) {
      if (e.type === 'log') break;
    }
    await runs.stop();
    const again = createRunService({ db, store, storeUrl: 'file:///unused', engine, files: { get: () => Promise.reject(new Error('unused')) }, clusterId: () => 'clusterA', containers: false, pollIntervalMs: 50 });
    try {
      await again.start();
      const lines: string[] = [];
      for await (const e of again.events(alice, id, 0, new AbortController().signal)) if (e.type === 'log') lines.push(String(e.data.text));
      expect(lines.join('')).toBe([1, 2, 3, 4, 5, 6].map((i) => `tick ${i}\n`).join(''));
      expect(lines.length).toBeGreaterThan(1);
    } finally {
      await again.stop();
      await runs.start();
    }
  });

  it('runs a tool as a one-step workflow named after it', async () => {
    const res = await submit('alice', { cwl: ECHO, job: { message: 'from a tool' } });
    const { id, processClass } = (await res.json()) as { id: string; processClass: string };
    expect(processClass).toBe('CommandLineTool');
    await events('alice', id);
    const outputs = (await (await call('alice', 'GET', `/runs/${id}/outputs`)).json()) as Record<string, { location: string }>;
    const said = await call('alice', 'GET', new URL(outputs.said!.location).pathname.slice(API_PREFIX.length));
    expect(await said.text()).toBe('from a tool\n');
  });

  it("hides a run from users outside its project: they cannot see, follow, stop or download it", async () => {
    const input = await upload('alice', 'private.txt', 'secret\n');
    const { id } = (await (await submit('alice', { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: input.location } } })).json()) as { id: string };
    await events('alice', id);
    for (const [method, url] of [
      ['GET', `/runs/${id}`],
      ['GET', `/runs/${id}/events`],
      ['GET', `/runs/${id}/outputs`],
      ['GET', `/runs/${id}/steps/upper/logs`],
      ['GET', `/runs/${id}/files/upper/0/files/0/upper.txt`],
      ['POST', `/runs/${id}/stop`],
      ['DELETE', `/runs/${id}`],
      ['GET', `/files/${input.id}`],
    ] as const) {
      const res = await call('bob', method, url);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not-found');
    }
    expect(((await (await call('bob', 'GET', '/runs')).json()) as { items: unknown[] }).items).toEqual([]);
    // Nor can bob run alice's file in his own project.
    const theft = await call('bob', 'POST', '/runs', { project: 'physics', cwl: UPPER_COUNT, job: { infile: { class: 'File', location: input.location } } });
    expect(theft.status).toBe(400);
    // Administrators see every run.
    expect((await call('admin', 'GET', `/runs/${id}`)).status).toBe(200);
  });

  it('refuses bad submissions with a 4xx naming the problem, and keeps nothing of them', async () => {
    const runsBefore = await count('runs');
    const objectsBefore = (await runObjects()).length;
    const cases: { body: Record<string, unknown>; status: number; message: RegExp }[] = [
      { body: { cwl: 'cwlVersion: v1.2\nclass: Workflow\ninputs: {x: int\n' }, status: 400, message: /^cwl:4:\d+: not valid YAML/ },
      { body: { cwl: 'cwlVersion: v1.2\nclass: Banana\n' }, status: 400, message: /class/ },
      { body: { cwl: `cwlVersion: v1.2\nclass: Workflow\n${aliasBomb()}` }, status: 400, message: /^cwl: the document expands to more than \d+ values/ },
      { body: { cwl: UPPER_COUNT, job: { infile: 42 } }, status: 400, message: /infile/ },
      { body: { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: 'file:///etc/passwd' } } }, status: 400, message: /job\.infile: location "file:\/\/\/etc\/passwd" is not a file uploaded/ },
      { body: { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: 'archipel:files/0123456789abcdef0123456789abcdef' } } }, status: 400, message: /no uploaded file/ },
      { body: { cwl: UPPER_COUNT.replace('run:\n      class: CommandLineTool', 'run: upper.cwl\n    xrun:\n      class: CommandLineTool') }, status: 400, message: /names another file/ },
      { body: { cwl: UPPER_COUNT.replace('infile: File', 'infile: {type: File, default: {class: File, location: /etc/passwd}}'), job: {} }, status: 400, message: /inputs\.infile\.default\.location: a File or Directory in the document must be an uploaded file/ },
      { body: { cwl: UPPER_COUNT.replace('infile: File', 'infile: {type: File, default: {class: File, location: "archipel:files/0123456789abcdef0123456789abcdef"}}'), job: {} }, status: 400, message: /cwl\.inputs.*no uploaded file/ },
      { body: { cwl: ECHO, job: { message: 'x' }, project: 'physics' }, status: 404, message: /project "physics" not found/ },
      { body: { cwl: ECHO, job: { message: 'x' }, labels: { 'bad key!': 'v' } }, status: 400, message: /label/ },
      { body: { cwl: 'x'.repeat(20 * 1024 * 1024) }, status: 413, message: /limit/ },
    ];
    for (const { body, status, message } of cases) {
      const res = await submit('alice', body);
      const text = await res.text();
      expect(res.status, text.slice(0, 300)).toBe(status);
      expect((JSON.parse(text) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(await count('runs')).toBe(runsBefore);
    expect((await runObjects()).length).toBe(objectsBefore);
  });

  it('stops a running run: its step fails and its process is gone; a finished run can then be deleted with its files', async () => {
    const { id } = (await (await submit('alice', { cwl: SLEEPER })).json()) as { id: string };
    // Wait until the tool runs and has said something.
    for (let i = 0; ; i++) {
      const logs = await call('alice', 'GET', `/runs/${id}/steps/nap/logs`);
      if ((await logs.text()).includes('dozing')) break;
      if (i > 200) throw new Error(`the tool never started: ${JSON.stringify(await (await call('alice', 'GET', `/runs/${id}`)).json())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(processesRunning('sleep 61.25')).toBe(true);
    expect((await call('alice', 'DELETE', `/runs/${id}`)).status).toBe(409);
    const early = await call('alice', 'GET', `/runs/${id}/steps/nap/outputs`);
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { message: string } }).error.message).toMatch(/step "nap" .* has no outputs: it is Running/);
    const stopped = (await (await call('alice', 'POST', `/runs/${id}/stop`)).json()) as { phase: string; steps: { phase: string }[] };
    expect(stopped.phase).toBe('Failed');
    expect(stopped.steps[0]!.phase).toBe('Failed');
    expect(processesRunning('sleep 61.25')).toBe(false);
    expect((await runObjects()).some((k) => k.startsWith(`runs/${id}/`))).toBe(true);
    expect((await call('alice', 'DELETE', `/runs/${id}`)).status).toBe(204);
    expect((await runObjects()).some((k) => k.startsWith(`runs/${id}/`))).toBe(false);
    expect((await call('alice', 'GET', `/runs/${id}`)).status).toBe(404);
  });

  it('reuses the results of identical tool steps within a project, unless the run or the step opts out', async () => {
    const trace = path.join(root, 'reuse-trace');
    const tool = (reuse: string) => `cwlVersion: v1.2
class: CommandLineTool
${reuse}baseCommand: [sh, -c, 'echo ran >> "$0"; tr a-z A-Z < "$1"']
inputs:
  trace: {type: string, inputBinding: {position: 1}}
  f: {type: File, inputBinding: {position: 2}}
stdout: out.txt
outputs: {out: stdout}
`;
    const input = await upload('alice', 'words.txt', 'reuse me\n');
    const job = { trace, f: { class: 'File', location: input.location } };
    const runOnce = async (body: Record<string, unknown>) => {
      const res = await submit('alice', body);
      expect(res.status, await res.clone().text()).toBe(201);
      const { id } = (await res.json()) as { id: string };
      await events('alice', id);
      const run = (await (await call('alice', 'GET', `/runs/${id}`)).json()) as { phase: string; steps: { items: { reused: number } }[] };
      expect(run.phase).toBe('Succeeded');
      const outputs = (await (await call('alice', 'GET', `/runs/${id}/outputs`)).json()) as Record<string, { location: string }>;
      const text = await (await call('alice', 'GET', new URL(outputs.out!.location).pathname.slice(API_PREFIX.length))).text();
      return { id, reused: run.steps[0]!.items.reused, text };
    };
    const ran = () => readFileSync(trace, 'utf8').split('\n').filter(Boolean).length;

    const first = await runOnce({ cwl: tool(''), job });
    expect([first.reused, ran(), first.text]).toEqual([0, 1, 'REUSE ME\n']);
    const second = await runOnce({ cwl: tool(''), job });
    expect([second.reused, ran(), second.text]).toEqual([1, 1, 'REUSE ME\n']);
    // The reused result is the second run's own: deleting the first run does not take it away.
    expect((await call('alice', 'DELETE', `/runs/${first.id}`)).status).toBe(204);
    const third = await runOnce({ cwl: tool(''), job });
    expect([third.reused, ran(), third.text]).toEqual([1, 1, 'REUSE ME\n']);
    // Opting out: per run, and per step with WorkReuse.
    const fresh = await runOnce({ cwl: tool(''), job, reuse: false });
    expect([fresh.reused, ran()]).toEqual([0, 2]);
    const optedOut = await runOnce({ cwl: tool('requirements: {WorkReuse: {enableReuse: false}}\n'), job });
    expect([optedOut.reused, ran()]).toEqual([0, 3]);
    // Another input content is another result.
    const other = await upload('alice', 'words.txt', 'something else\n');
    const changed = await runOnce({ cwl: tool(''), job: { ...job, f: { class: 'File', location: other.location } } });
    expect([changed.reused, ran(), changed.text]).toEqual([0, 4, 'SOMETHING ELSE\n']);
  });

  it('retries a failed run: what succeeded keeps its outputs, what failed runs again', async () => {
    const trace = path.join(root, 'retry-trace');
    const flag = path.join(root, 'retry-flag');
    const cwl = `cwlVersion: v1.2
class: Workflow
inputs: {trace: string, flag: string}
outputs:
  result: {type: File, outputSource: second/out}
steps:
  first:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'echo first >> "$0"; echo one']
      inputs: {trace: {type: string, inputBinding: {position: 1}}}
      stdout: one.txt
      outputs: {out: stdout}
    in: {trace: trace}
    out: [out]
  second:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'echo second >> "$0"; test -e "$1" && cat "$2"']
      inputs:
        trace: {type: string, inputBinding: {position: 1}}
        flag: {type: string, inputBinding: {position: 2}}
        f: {type: File, inputBinding: {position: 3}}
      stdout: two.txt
      outputs: {out: stdout}
    in: {trace: trace, flag: flag, f: first/out}
    out: [out]
`;
    const { id } = (await (await submit('alice', { cwl, job: { trace, flag }, reuse: false })).json()) as { id: string };
    const firstTry = await events('alice', id);
    expect(firstTry.at(-1)).toMatchObject({ event: 'run', data: { phase: 'Failed' } });
    const failed = (await (await call('alice', 'GET', `/runs/${id}`)).json()) as { message: string; steps: { step: string; phase: string; exitCode?: number }[] };
    expect(failed.message).toMatch(/step second failed/);
    expect(failed.steps.map((s) => [s.step, s.phase, s.exitCode])).toEqual([
      ['first', 'Succeeded', 0],
      ["second", "Failed", 1],
    ]);
    expect((await call('alice', 'GET', `/runs/${id}/outputs`)).status).toBe(409);

    writeFileSync(flag, '');
    const retried = await call('alice', 'POST', `/runs/${id}/retry`);
    expect(retried.status, await retried.clone().text()).toBe(200);
    expect(((await retried.json()) as { attempt: number }).attempt).toBe(2);
    const again = await events('alice', id, { 'Last-Event-ID': String(firstTry.at(-1)!.id) });
    expect(again.at(-1)).toMatchObject({ event: 'run', data: { phase: 'Succeeded' } });
    expect(readFileSync(trace, 'utf8')).toBe('first\nsecond\nsecond\n');
    const outputs = (await (await call('alice', 'GET', `/runs/${id}/outputs`)).json()) as Record<string, { location: string }>;
    expect(await (await call('alice', 'GET', new URL(outputs.result!.location).pathname.slice(API_PREFIX.length))).text()).toBe('one\n');
    expect((await call('alice', 'POST', `/runs/${id}/retry`)).status).toBe(409);
  });

  it('runs the tool of a service catalog entry the user may see, and no other', async () => {
    const alice = await identity.authenticate(tokens.alice!);
    const entry = await catalog.create(localCaller(alice, 'clusterA', ['clusterA/genomics']), {
      kind: 'service',
      name: 'echoer',
      visibility: 'restricted',
      allowedProjects: ['clusterA/genomics'],
      spec: { image: 'docker.io/library/debian:stable-slim', cwl: ECHO },
    });
    const res = await submit('alice', { service: entry.id, job: { message: 'from the catalog' } });
    expect(res.status, await res.clone().text()).toBe(201);
    const run = (await res.json()) as { id: string; name: string };
    expect(run.name).toBe('echoer');
    await events('alice', run.id);
    const outputs = (await (await call('alice', 'GET', `/runs/${run.id}/outputs`)).json()) as Record<string, { location: string }>;
    expect(await (await call('alice', 'GET', new URL(outputs.said!.location).pathname.slice(API_PREFIX.length))).text()).toBe('from the catalog\n');
    // Bob is not in the project the entry is restricted to: for him it does not exist.
    const hidden = await call('bob', 'POST', '/runs', { project: 'physics', service: entry.id, job: { message: 'x' } });
    expect(hidden.status).toBe(404);
    const both = await submit('alice', { service: entry.id, cwl: ECHO, job: { message: 'x' } });
    expect(both.status).toBe(400);
  });

  it('reads data catalog entries the user may see through a grant the run holds until it ends', async () => {
    const alice = await identity.authenticate(tokens.alice!);
    const dataDir = path.join(root, 'reads-data');
    mkdirSync(path.join(dataDir, 'reads'), { recursive: true });
    writeFileSync(path.join(dataDir, 'reads', 'a.txt'), 'acgt\n');
    writeFileSync(path.join(dataDir, 'reads', 'b.txt'), 'ttga\n');
    const reads = await catalog.create(localCaller(alice, 'clusterA', ['clusterA/genomics']), {
      kind: 'data',
      name: 'reads',
      visibility: 'restricted',
      allowedProjects: ['clusterA/genomics'],
      spec: { source: { type: 'directory', path: dataDir } },
    });
    const cwl = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'sleep 1; cat "$0"; ls "$1"']
inputs:
  one: {type: File, inputBinding: {position: 1}}
  all: {type: Directory, inputBinding: {position: 2}}
stdout: out.txt
outputs:
  out: stdout
`;
    const job = { one: { class: 'File', location: `archipel:catalog/${reads.id}/reads/a.txt` }, all: { class: 'Directory', location: `archipel:catalog/${reads.id}/reads` } };
    const heldGrants = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM access_grants WHERE entry_id = $1 AND revoked_at IS NULL', [reads.id])).rows[0]!.n);
    const res = await submit('alice', { cwl, job });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    // One grant for the entry, named twice, held while the run runs.
    expect(await heldGrants()).toBe(1);
    expect((await events('alice', id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    const outputs = (await (await call('alice', 'GET', `/runs/${id}/outputs`)).json()) as Record<string, { location: string }>;
    expect(await (await call('alice', 'GET', new URL(outputs.out!.location).pathname.slice(API_PREFIX.length))).text()).toBe('acgt\na.txt\nb.txt\n');
    expect(await heldGrants()).toBe(0);
    const released = await db.query<{ released_at: Date | null }>('SELECT released_at FROM run_grants WHERE run_id = $1', [id]);
    expect(released.rows).toHaveLength(1);
    expect(released.rows[0]!.released_at).not.toBeNull();
    // A grant a node could not give back (it stopped first) is given back when it starts again.
    await db.query('UPDATE run_grants SET released_at = NULL WHERE run_id = $1', [id]);
    await runs.stop();
    await runs.start();
    expect((await db.query('SELECT 1 FROM run_grants WHERE run_id = $1 AND released_at IS NULL', [id])).rows).toEqual([]);

    // Refused: an entry bob may not see, a path outside the entry or not in it; none leaves a run or a grant.
    const before = await count('runs');
    const hidden = await call('bob', 'POST', '/runs', { project: 'physics', cwl, job });
    expect(hidden.status).toBe(400);
    expect(((await hidden.json()) as { error: { message: string } }).error.message).toMatch(/job\.one: no data catalog entry .* that you may see/);
    for (const location of [`archipel:catalog/${reads.id}/../secret`, `archipel:catalog/${reads.id}/reads/missing.txt`]) {
      const bad = await submit('alice', { cwl, job: { ...job, one: { class: 'File', location } } });
      expect(bad.status, location).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^job\.one: /);
    }
    // A job refused after the grant was given (an input missing) gives it back.
    const incomplete = await submit('alice', { cwl, job: { all: job.all } });
    expect(incomplete.status).toBe(400);
    expect(await count('runs')).toBe(before);
    expect(await heldGrants()).toBe(0);
  });

  it('reads an S3 data entry through pre-signed URLs', async () => {
    const alice = await identity.authenticate(tokens.alice!);
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    for (const [key, body] of [['datasets/run7/1.txt', 'one\n'], ['datasets/run7/sub/2.txt', 'two\n'], ['datasets/run70/other.txt', 'not this\n']]) {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
    }
    client.destroy();
    const dataset = await catalog.create(localCaller(alice, 'clusterA', ['clusterA/genomics']), {
      kind: 'data',
      name: 'run7',
      spec: { source: { type: 's3', bucket: s3.bucket, prefix: 'datasets/run7' } },
    });
    const cwl = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'cd "$0" && find . -type f | sort && cat sub/2.txt']
inputs:
  all: {type: Directory, inputBinding: {position: 1}}
stdout: out.txt
outputs:
  out: stdout
`;
    const res = await submit('alice', { cwl, job: { all: { class: 'Directory', location: `archipel:catalog/${dataset.id}` } } });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await events('alice', id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    const outputs = (await (await call('alice', 'GET', `/runs/${id}/outputs`)).json()) as Record<string, { location: string }>;
    expect(await (await call('alice', 'GET', new URL(outputs.out!.location).pathname.slice(API_PREFIX.length))).text()).toBe('./1.txt\n./sub/2.txt\ntwo\n');
  });

  it('writes the outputs to a storage entry the user may use, and refuses one they may not', async () => {
    const alice = await identity.authenticate(tokens.alice!);
    const bob = await identity.authenticate(tokens.bob!);
    const targetDir = path.join(root, 'lab-share');
    mkdirSync(targetDir);
    const share = await catalog.create(localCaller(alice, 'clusterA', ['clusterA/genomics']), {
      kind: 'storage',
      name: 'lab-share',
      visibility: 'restricted',
      allowedProjects: ['clusterA/genomics'],
      spec: { target: { type: 'directory', path: targetDir } },
    });
    const input = await upload('alice', 'in.txt', 'to the share\n');
    const res = await submit('alice', { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: input.location } }, outputs: { entry: share.id, prefix: 'batch-1' } });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await events('alice', id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    const run = (await (await call('alice', 'GET', `/runs/${id}`)).json()) as { outputLocation: { type: string; path: string; files: string[] } };
    expect(run.outputLocation).toMatchObject({ type: 'directory', files: ['batch-1/count.txt', 'batch-1/upper.txt'] });
    expect(run.outputLocation.path.startsWith(targetDir)).toBe(true);
    expect(readFileSync(path.join(run.outputLocation.path, 'upper.txt'), 'utf8')).toBe('TO THE SHARE\n');
    expect(readFileSync(path.join(run.outputLocation.path, 'count.txt'), 'utf8').trim()).toBe('13');

    // Bob may not see the entry: it does not exist for him, and nothing of his submission stays.
    const before = await count('runs');
    const refused = await call('bob', 'POST', '/runs', { project: 'physics', cwl: ECHO, job: { message: 'x' }, outputs: { entry: share.id } });
    expect(refused.status).toBe(404);
    expect(await count('runs')).toBe(before);
    const notStorage = await catalog.create(localCaller(bob, 'clusterA', ['clusterA/physics']), { kind: 'service', name: 'svc', spec: { image: 'debian', cwl: ECHO } });
    const wrongKind = await call('bob', 'POST', '/runs', { project: 'physics', cwl: ECHO, job: { message: 'x' }, outputs: { entry: notStorage.id } });
    expect(wrongKind.status).toBe(400);
    expect(((await wrongKind.json()) as { error: { message: string } }).error.message).toMatch(/not a storage entry/);
    const badPrefix = await submit('alice', { cwl: ECHO, job: { message: 'x' }, outputs: { entry: share.id, prefix: '../escape' } });
    expect(badPrefix.status).toBe(400);
  });

  it('writes the outputs to an S3 storage entry through pre-signed URLs', async () => {
    const alice = await identity.authenticate(tokens.alice!);
    const bucket = await catalog.create(localCaller(alice, 'clusterA', ['clusterA/genomics']), {
      kind: 'storage',
      name: 'results-bucket',
      spec: { target: { type: 's3', bucket: s3.bucket, prefix: 'results/' } },
    });
    const input = await upload('alice', 'in.txt', 'into the bucket\n');
    const res = await submit('alice', { cwl: UPPER_COUNT, job: { infile: { class: 'File', location: input.location } }, outputs: { entry: bucket.id, prefix: 'b2' } });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await events('alice', id)).at(-1)).toMatchObject({ data: { phase: 'Succeeded' } });
    const run = (await (await call('alice', 'GET', `/runs/${id}`)).json()) as { outputLocation: { type: string; bucket: string; files: string[] } };
    expect(run.outputLocation).toMatchObject({ type: 's3', bucket: s3.bucket });
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    const upper = run.outputLocation.files.find((k) => k.endsWith('b2/upper.txt'))!;
    expect(upper.startsWith('results/')).toBe(true);
    const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: upper }));
    expect(await object.Body!.transformToString()).toBe('INTO THE BUCKET\n');
    client.destroy();
  });

  it('documents its routes in the OpenAPI document, the run files route included', async () => {
    const doc = (await (await app.request(`${API_PREFIX}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const route of ['/runs', '/runs/{id}', '/runs/{id}/events', '/runs/{id}/steps/{step}/logs', '/runs/{id}/steps/{step}/outputs', '/runs/{id}/outputs', '/runs/{id}/files/{path}', '/files']) {
      expect(doc.paths[`${API_PREFIX}${route}`], route).toBeDefined();
    }
  });

  it('serves uploads with byte ranges, and refuses an upload over the limit', async () => {
    const file = await upload('alice', 'digits.txt', '0123456789');
    const part = await call('alice', 'GET', `/files/${file.id}`, undefined, { Range: 'bytes=3-5' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 3-5/10');
    expect(await part.text()).toBe('345');
    expect((await call('alice', 'GET', `/files/${file.id}`, undefined, { Range: 'bytes=20-' })).status).toBe(416);
    const big = await call('alice', 'POST', '/files?name=big.bin', new Uint8Array(2 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect(((await (await call('alice', 'GET', '/files')).json()) as { items: { name: string }[] }).items.map((f) => f.name)).not.toContain('big.bin');
  });
});
