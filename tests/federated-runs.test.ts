import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { generateSwarmKey } from '../discovery/index.ts';
import { startS3rver, type S3rverHandle } from '../platform/object-store/testing.ts';
import { eventually } from './support/eventually.ts';
import type { ArchipelProcess } from './support/archipel-process.ts';
import { ok, startFederationNode, type FederationNode } from './support/federation-node.ts';

/**
 * Federated runs as users see them: three `archipel up` nodes in separate processes on 127.0.0.1, one
 * swarm, A peered with B and with C. A user of A submits one workflow to A; its steps run on A, on B and
 * on C, as the run asks, each in the engine of the cluster that runs it, their files passing through A's
 * object store over the peering connections. The tools print where they ran.
 */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-federated-runs-'));
const running: ArchipelProcess[] = [];
const start = (name: string, swarmKey: string, extra: string[] = [], env: Record<string, string> = {}) => startFederationNode(root, running, name, swarmKey, extra, env);
let s3: S3rverHandle | undefined;
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await s3?.stop();
  // ARCHIPEL_TEST_LOGS=dir keeps each node's output for a look after a failure.
  const keep = process.env.ARCHIPEL_TEST_LOGS;
  if (keep) running.forEach((p, i) => writeFileSync(path.join(keep, `federated-runs-${i}.log`), `${p.stdout()}\n--- stderr ---\n${p.stderr()}`));
  if (!process.env.ARCHIPEL_TEST_LOGS) rmSync(root, { recursive: true, force: true });
});

async function peer(a: FederationNode, b: FederationNode) {
  ok(await a.call('POST', `/discovery/peers/${b.clusterId}/request-peering`));
  await eventually(async () => expect(ok(await b.call('GET', `/discovery/peers/${a.clusterId}`)).state).toBe('pending-approval'), 15_000, 200);
  ok(await b.call('POST', `/discovery/peers/${a.clusterId}/approve`));
  await eventually(async () => expect(ok(await a.call('GET', `/discovery/peers/${b.clusterId}`)).state).toBe('peered'), 15_000, 200);
}

// Each step appends a line naming its working directory, which is under the data directory of the node
// whose engine runs it; the second also appends B's data and writes to its log.
const APPEND = (step: string) => `
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'cat "$0"; echo "${step} ran in $PWD"; echo "${step} says hello" >&2']
      inputs: {f: {type: File, inputBinding: {position: 1}}}
      stdout: ${step}.txt
      outputs: {out: stdout}`;
const WORKFLOW = `cwlVersion: v1.2
class: Workflow
inputs:
  greeting: string
  site: File
outputs:
  story: {type: File, outputSource: third/out}
steps:
  first:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'echo "$0"; echo "first ran in $PWD"']
      inputs: {g: {type: string, inputBinding: {position: 1}}}
      stdout: first.txt
      outputs: {out: stdout}
    in: {g: greeting}
    out: [out]
  second:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'cat "$0" "$1"; echo "second ran in $PWD"; echo "second says hello" >&2']
      inputs:
        f: {type: File, inputBinding: {position: 1}}
        site: {type: File, inputBinding: {position: 2}}
      stdout: second.txt
      outputs: {out: stdout}
    in: {f: first/out, site: site}
    out: [out]
  third:${APPEND('third')}
    in: {f: second/out}
    out: [out]
`;

// A step slow enough to be caught running.
const SLOW = `cwlVersion: v1.2
class: Workflow
inputs: {}
outputs:
  out: {type: File, outputSource: slow/out}
steps:
  slow:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'sleep 8; echo "slow ran in $PWD"']
      inputs: {}
      stdout: slow.txt
      outputs: {out: stdout}
    in: {}
    out: [out]
`;

interface RunView {
  id: string;
  phase: string;
  message?: string;
  placement?: Record<string, { cluster: string; reasons: string[] }>;
  steps: { step: string; phase: string; cluster: string }[];
}

const logOf = (node: FederationNode) => node.process.stdout() + node.process.stderr();

describe('a workflow whose steps run on three clusters', () => {
  it('runs each step on the cluster it is placed on, in that cluster engine, its files through the origin store', { timeout: 240_000 }, async () => {
    const swarmKey = path.join(root, 'federation.key');
    writeFileSync(swarmKey, generateSwarmKey(), { mode: 0o600 });
    // A gives up on a peer that does not answer after 4 s; B offers one core, C the machine's two: a step
    // free to go to either goes to C, where it has room to spare.
    // B and C keep their objects in S3 (one S3 protocol server here), so that they can share S3 entries.
    s3 = await startS3rver();
    const s3Env = (prefix: string) => ({ S3_BUCKET: s3!.bucket, S3_PREFIX: prefix, S3_ENDPOINT: s3!.endpoint, S3_REGION: 'us-east-1', S3_ACCESS_KEY_ID: s3!.credentials.accessKeyId, S3_SECRET_ACCESS_KEY: s3!.credentials.secretAccessKey });
    const a = await start('alpha', swarmKey, [], { ARCHIPEL_RUNS_PEER_TIMEOUT_SECONDS: '4' });
    const [b, c] = await Promise.all([
      start('bravo', swarmKey, ['--bootstrap', a.p2p, '--compute-cores', '1'], s3Env('bravo')),
      start('charlie', swarmKey, ['--bootstrap', a.p2p, '--compute-cores', '2'], s3Env('charlie')),
    ]);
    await eventually(async () => {
      const peers = ok(await a.call('GET', '/discovery/peers')).items as { clusterId: string; connected: boolean }[];
      expect(peers.filter((p) => p.connected).map((p) => p.clusterId).sort()).toEqual([b.clusterId, c.clusterId].sort());
    }, 30_000, 250);
    await peer(a, b);
    await peer(a, c);
    ok(await a.call('POST', '/projects', { name: 'survey' }), 201);
    // A data entry on B; a storage entry on C, both public.
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'survey/site-1.csv', Body: 'depth,cover\n3,0.7\n' }));
    const site = ok(await b.call('POST', '/catalog/entries', { kind: 'data', name: 'Site survey', visibility: 'public', spec: { source: { type: 's3', bucket: s3.bucket, prefix: 'survey' } } }), 201);
    const results = ok(await c.call('POST', '/catalog/entries', { kind: 'storage', name: 'Results', visibility: 'public', spec: { target: { type: 's3', bucket: s3.bucket, prefix: 'results' } } }), 201);

    const submission = {
      project: 'survey',
      cwl: WORKFLOW,
      job: { greeting: 'hello from alpha', site: { class: 'File', location: `archipel:catalog/${b.clusterId}/${site.id}/site-1.csv` } },
      placement: { third: { cluster: c.clusterId } },
      outputs: { entry: results.id, cluster: c.clusterId, prefix: 'story-1' },
    };
    // The plan first: where each step goes and why, nothing run.
    const plan = ok(await a.call('POST', '/runs?dryRun=true', submission)) as { steps: { step: string; cluster: string; reasons: string[] }[] };
    expect(plan.steps.map((s) => [s.step, s.cluster])).toEqual([
      ['first', a.clusterId],
      ['second', b.clusterId],
      ['third', c.clusterId],
    ]);

    const submitted = ok(await a.call('POST', '/runs', submission), 201) as RunView;
    const run = await eventually(async () => {
      const view = ok(await a.call('GET', `/runs/${submitted.id}`)) as RunView;
      expect(['Succeeded', 'Failed', 'Error']).toContain(view.phase);
      return view;
    }, 90_000, 500);
    expect(run.phase, run.message).toBe('Succeeded');
    expect(run.steps.map((s) => [s.step, s.phase, s.cluster])).toEqual([
      ['first', 'Succeeded', a.clusterId],
      ['second', 'Succeeded', b.clusterId],
      ['third', 'Succeeded', c.clusterId],
    ]);
    // The second step reads B's data: it went there for it; the third was pinned to C.
    expect(run.placement?.second).toMatchObject({ cluster: b.clusterId, reasons: expect.arrayContaining(['1 of the 1 data entries it reads are there']) });
    expect(run.placement?.third).toMatchObject({ cluster: c.clusterId, pinned: true, reasons: expect.arrayContaining([expect.stringMatching(/^pinned to charlie/)]) });

    // The story: each line written where its step ran.
    const outputs = ok(await a.call('GET', `/runs/${run.id}/outputs`)) as { story: { location: string } };
    const story = await (await fetch(outputs.story.location, { headers: { Authorization: `Bearer ${a.token}` } })).text();
    const lines = story.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['hello from alpha', expect.stringMatching(new RegExp(`^first ran in ${a.dataDir}/`)), 'depth,cover', '3,0.7']);
    expect(lines[4]).toMatch(new RegExp(`^second ran in ${b.dataDir}/`));
    expect(lines[5]).toMatch(new RegExp(`^third ran in ${c.dataDir}/`));
    // ... and in C's storage entry, where the run was asked to put its outputs.
    const where = (ok(await a.call('GET', `/runs/${run.id}`)) as { outputLocation: { type: string; bucket: string; files: string[] } }).outputLocation;
    expect(where).toMatchObject({ type: 's3', bucket: s3.bucket, files: [expect.stringMatching(/^results\/.*story-1\/third\.txt$/)] });
    const stored = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: where.files[0]! }));
    expect(await stored.Body!.transformToString()).toBe(story);
    client.destroy();

    // The remote step's log reached the origin; the executing clusters' engines ran them as their own runs.
    const logs = await fetch(`${a.url}/api/v1/runs/${run.id}/steps/second/logs`, { headers: { Authorization: `Bearer ${a.token}` } });
    expect(await logs.text()).toContain('second says hello');
    const executions = async (node: FederationNode) => (ok(await node.call('GET', '/executions')) as { items: { originRun: string; step?: string }[] }).items;
    expect(await executions(b)).toEqual([expect.objectContaining({ originCluster: a.clusterId, originRun: run.id, step: 'second', user: 'admin', project: 'survey', phase: 'Succeeded' })]);
    expect(await executions(c)).toEqual([expect.objectContaining({ originCluster: a.clusterId, originRun: run.id, step: 'third', phase: 'Succeeded' })]);
    expect(await executions(a)).toEqual([]);

    // What the run reserved on B and C for its steps is given back once it ended.
    for (const node of [b, c]) {
      await eventually(async () => expect(ok(await node.call('GET', '/providers/compute')).inUse).toMatchObject({ cores: 0, memoryMiB: 0 }), 15_000, 250);
    }

    // A cluster no peering reaches is never chosen: a pin to it is refused before anything runs.
    const stranger = '12D3KooWGzN2ZJ8bY9r1bLoZ3VJv1VqWvQ7cLkT8P3o6y7mQwXyZ';
    const refused = await a.call('POST', '/runs', { ...submission, placement: { second: { cluster: stranger } } });
    expect(refused.status, JSON.stringify(refused.body)).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(JSON.stringify(refused.body)).toContain('second');
    // A step that no cluster can fit is refused before anything runs, naming it and what it asked for.
    const huge = SLOW.replace('      inputs: {}\n      stdout', '      requirements: [{class: ResourceRequirement, coresMin: 64}]\n      inputs: {}\n      stdout');
    const runsBefore = (ok(await a.call('GET', '/runs')) as { items: unknown[] }).items.length;
    const unfit = await a.call('POST', '/runs', { project: 'survey', cwl: huge, job: {} });
    expect(unfit.status).toBe(400);
    expect(unfit.body.error.message).toMatch(/^step slow \(asks for 64 cores, .*\) fits no cluster/);
    expect((ok(await a.call('GET', '/runs')) as { items: unknown[] }).items).toHaveLength(runsBefore);

    // C is killed while it runs a step of two runs: the step free to go elsewhere is placed again (on B:
    // A is avoided, C lost) and its run succeeds; the step pinned to C fails its run, naming C.
    const free = ok(await a.call('POST', '/runs', { project: 'survey', cwl: SLOW, job: {}, placement: { slow: { avoid: [a.clusterId] } } }), 201) as RunView;
    const pinned = ok(await a.call('POST', '/runs', { project: 'survey', cwl: SLOW, job: {}, placement: { slow: { cluster: c.clusterId } } }), 201) as RunView;
    for (const id of [free.id, pinned.id]) {
      await eventually(async () => {
        const view = ok(await a.call('GET', `/runs/${id}`)) as RunView;
        expect(view.steps[0]).toMatchObject({ phase: 'Running', cluster: c.clusterId });
        expect(logOf(c)).toMatch(new RegExp(`"run":"${id}".*running a step for a peer`));
      }, 30_000, 200);
    }
    await c.process.stop('SIGKILL');
    const ended = async (id: string) =>
      eventually(async () => {
        const view = ok(await a.call('GET', `/runs/${id}`)) as RunView;
        expect(['Succeeded', 'Failed', 'Error']).toContain(view.phase);
        return view;
      }, 60_000, 500);
    const [freeRun, pinnedRun] = [await ended(free.id), await ended(pinned.id)];
    expect(freeRun.phase, freeRun.message).toBe('Succeeded');
    expect(freeRun.steps[0]).toMatchObject({ phase: 'Succeeded', cluster: b.clusterId });
    expect(freeRun.placement?.slow).toMatchObject({ cluster: b.clusterId, lost: [c.clusterId], reasons: expect.arrayContaining([expect.stringMatching(new RegExp(`^placed again: cluster ${c.clusterId} was lost`))]) });
    const slowOut = ok(await a.call('GET', `/runs/${free.id}/outputs`)) as { out: { location: string } };
    const slowText = await (await fetch(slowOut.out.location, { headers: { Authorization: `Bearer ${a.token}` } })).text();
    expect(slowText).toMatch(new RegExp(`slow ran in ${b.dataDir}/`));
    expect(pinnedRun.phase).toBe('Error');
    expect(pinnedRun.message).toContain(`cluster ${c.clusterId} did not answer`);
    expect(pinnedRun.message).toContain(`step slow is pinned to cluster ${c.clusterId}`);
    // Retried, it needs compute on C again: refused, naming the step and the cluster, and it stays as it was.
    const retried = await a.call('POST', `/runs/${pinned.id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(409);
    expect(retried.body.error.message).toMatch(new RegExp(`^step slow cannot be readied on cluster ${c.clusterId}: `));
    expect((ok(await a.call('GET', `/runs/${pinned.id}`)) as RunView).phase).toBe('Error');

    // A is stopped while B runs a step of its run, and started again: the run resumes, attached to the
    // step still running on B (which runs it once), and succeeds.
    const slower = SLOW.replace('sleep 8', 'sleep 15');
    const resumed = ok(await a.call('POST', '/runs', { project: 'survey', cwl: slower, job: {}, placement: { slow: { cluster: b.clusterId } } }), 201) as RunView;
    await eventually(async () => {
      expect(((ok(await a.call('GET', `/runs/${resumed.id}`)) as RunView).steps[0])).toMatchObject({ phase: 'Running', cluster: b.clusterId });
      expect(logOf(b)).toMatch(new RegExp(`"run":"${resumed.id}".*running a step for a peer`));
    }, 30_000, 200);
    expect(await a.process.stop('SIGTERM')).toBe(0);
    const again = await startFederationNode(root, running, 'alpha', swarmKey, [], { ARCHIPEL_RUNS_PEER_TIMEOUT_SECONDS: '30' }, false);
    expect(again.clusterId).toBe(a.clusterId);
    const after = await eventually(async () => {
      const view = ok(await again.call('GET', `/runs/${resumed.id}`)) as RunView;
      expect(['Succeeded', 'Failed', 'Error']).toContain(view.phase);
      return view;
    }, 60_000, 500);
    expect(after.phase, after.message).toBe('Succeeded');
    expect(logOf(b).match(new RegExp(`"run":"${resumed.id}"[^\n]*running a step for a peer`, 'g'))).toHaveLength(1);
  });
});
