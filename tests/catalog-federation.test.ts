import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSwarmKey } from '../discovery/index.ts';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rverHandle } from '../platform/object-store/testing.ts';
import { eventually } from './support/eventually.ts';
import type { ArchipelProcess } from './support/archipel-process.ts';
import { ok, startFederationNode, type Call, type FederationNode } from './support/federation-node.ts';
import { json } from './support/json.ts';
import { unmountUnder } from './support/mounts.ts';

/**
 * Federated catalog search as users see it: three `archipel up` nodes in separate processes on 127.0.0.1,
 * alpha and bravo peered, charlie in the same swarm but not peered with anyone. Each owner decides what
 * leaves it: private never, restricted only for a caller acting for an allowed project, and only to peered
 * clusters; a peer that is down makes the search partial, naming it. Compute reservations between the
 * same clusters take the same path: a peered cluster's user reserves, lists and releases on the owner; and
 * so does access to a data entry, granted by its owner only to users who may see it.
 */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-catalog-federation-'));
const running: ArchipelProcess[] = [];
const start = (name: string, swarmKey: string, extra: string[] = [], env: Record<string, string> = {}) => startFederationNode(root, running, name, swarmKey, extra, env);
let s3: S3rverHandle | undefined;
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await s3?.stop();
  unmountUnder(root);
  rmSync(root, { recursive: true, force: true });
});


/** A user of `node`, member of `projects` there (made by its admin), and a token of theirs. */
async function userOf(node: FederationNode, user: string, projects: string[] = []): Promise<Call> {
  const password = `${user}-secret-password`;
  ok(await node.call('POST', '/users', { name: user, password }), 201);
  for (const project of projects) {
    const created = await node.call('POST', '/projects', { name: project });
    if (created.status !== 409) ok(created, 201);
    ok(await node.call('POST', `/projects/${project}/members`, { user, role: 'member' }), 201);
  }
  const login = await fetch(`${node.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  expect(login.status).toBe(201);
  return node.as((await json(login)).token);
}

/** A data entry; every one matches the searches for "reef" below. */
const entry = (name: string, visibility: 'public' | 'private' | 'restricted', allowedProjects?: string[]) => ({
  kind: 'data',
  name,
  description: 'Coral reef survey',
  tags: ['reef'],
  visibility,
  ...(allowedProjects ? { allowedProjects } : {}),
  spec: { source: { type: 's3', bucket: 'reef-data', prefix: `${name.toLowerCase().replaceAll(' ', '-')}/` } },
});

interface Found {
  name: string;
  origin?: string;
  ownerCluster: string;
  allowedProjects: string[];
}
const sorted = (items: Found[]) => items.map((e) => `${e.name} @${e.origin ?? e.ownerCluster}`).sort();

describe('federated catalog search across three archipel nodes', () => {
  it('shows each caller exactly what the owners allow, and partial results when a peer is down', { timeout: 120_000 }, async () => {
    const swarmKey = path.join(root, 'federation.key');
    writeFileSync(swarmKey, generateSwarmKey(), { mode: 0o600 });
    // Bravo keeps its objects in S3 (an S3 protocol server here), so that it can share S3 data entries.
    s3 = await startS3rver();
    const bravoS3 = { S3_BUCKET: s3.bucket, S3_PREFIX: 'bravo', S3_ENDPOINT: s3.endpoint, S3_REGION: 'us-east-1', S3_ACCESS_KEY_ID: s3.credentials.accessKeyId, S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey };
    const a = await start('alpha', swarmKey);
    const [b, c] = await Promise.all([start('bravo', swarmKey, ['--bootstrap', a.p2p], bravoS3), start('charlie', swarmKey, ['--bootstrap', a.p2p])]);
    const label = (id: string) => ({ [a.clusterId]: 'A', [b.clusterId]: 'B', [c.clusterId]: 'C' })[id] ?? id;
    const show = (items: Found[]) => sorted(items.map((e) => ({ ...e, origin: label(e.origin ?? e.ownerCluster) })));

    // Users on each cluster: A's anna acts for A/ops, axel for nothing; B's bea for B/lab, ben for B/field;
    // C's cid for C/lab. The allowed projects name federation-wide ids, cluster ids being peer ids.
    const [[anna, axel], [bea, ben], [cid]] = await Promise.all([
      Promise.all([userOf(a, 'anna', ['ops']), userOf(a, 'axel')]),
      Promise.all([userOf(b, 'bea', ['lab']), userOf(b, 'ben', ['field'])]),
      Promise.all([userOf(c, 'cid', ['lab'])]),
    ]);
    const allowed = [`${a.clusterId}/ops`, `${b.clusterId}/lab`, `${c.clusterId}/lab`];
    const [pub, priv, restricted] = [
      ok(await a.call('POST', '/catalog/entries', entry('Reef public', 'public')), 201),
      ok(await a.call('POST', '/catalog/entries', entry('Reef private', 'private')), 201),
      ok(await a.call('POST', '/catalog/entries', entry('Reef restricted', 'restricted', allowed)), 201),
    ];
    ok(await b.call('POST', '/catalog/entries', entry('Reef of bravo', 'public')), 201);
    ok(await b.call('POST', '/catalog/entries', entry('Reef secret of bravo', 'private')), 201);
    ok(await c.call('POST', '/catalog/entries', entry('Reef of charlie', 'public')), 201);

    // Peering: alpha asks bravo, bravo's operator approves. Charlie stays unpeered.
    await eventually(async () => {
      const peers = ok(await a.call('GET', '/discovery/peers')).items as { clusterId: string; connected: boolean }[];
      expect(peers.filter((p) => p.connected).map((p) => p.clusterId).sort()).toEqual([b.clusterId, c.clusterId].sort());
    }, 30_000, 250);
    ok(await a.call('POST', `/discovery/peers/${b.clusterId}/request-peering`));
    await eventually(async () => expect(ok(await b.call('GET', `/discovery/peers/${a.clusterId}`)).state).toBe('pending-approval'), 10_000, 200);
    ok(await b.call('POST', `/discovery/peers/${a.clusterId}/approve`));
    await eventually(async () => expect(ok(await a.call('GET', `/discovery/peers/${b.clusterId}`)).state).toBe('peered'), 10_000, 200);
    await eventually(async () => expect(ok(await b.call('GET', `/discovery/peers/${a.clusterId}`)).state).toBe('peered'), 10_000, 200);

    const local = async (call: Call) => show(ok(await call('GET', '/catalog/search?q=reef')).items);
    const federated = async (call: Call) => {
      const result = ok(await call('GET', '/catalog/search?q=reef&scope=federation&timeoutMs=10000'));
      expect(result).toMatchObject({ scope: 'federation', partial: false, unanswered: [] });
      return show(result.items);
    };
    const gets = async (call: Call) =>
      Object.fromEntries(
        await Promise.all(
          [pub, priv, restricted].map(async (e) => [e.name, (await call('GET', `/catalog/entries/${e.id}`)).status] as const),
        ),
      );

    // Same cluster, acting for an allowed project: everything of A, and B's public entry through the peering.
    expect(await local(anna)).toEqual(['Reef private @A', 'Reef public @A', 'Reef restricted @A']);
    expect(await gets(anna)).toEqual({ 'Reef public': 200, 'Reef private': 200, 'Reef restricted': 200 });
    expect(await federated(anna)).toEqual(['Reef of bravo @B', 'Reef private @A', 'Reef public @A', 'Reef restricted @A']);

    // Same cluster, no allowed project: no restricted entry, and its get answers like a missing entry.
    expect(await local(axel)).toEqual(['Reef private @A', 'Reef public @A']);
    expect(await gets(axel)).toEqual({ 'Reef public': 200, 'Reef private': 200, 'Reef restricted': 404 });
    expect(await federated(axel)).toEqual(['Reef of bravo @B', 'Reef private @A', 'Reef public @A']);

    // Peered cluster, acting for an allowed project: A's public and restricted entries (never the private one),
    // labelled with their origin; of the allowed projects it is shown only its own.
    const forBea = ok(await bea('GET', '/catalog/search?q=reef&scope=federation&timeoutMs=10000'));
    expect(forBea).toMatchObject({ partial: false, unanswered: [] });
    expect(show(forBea.items)).toEqual(['Reef of bravo @B', 'Reef public @A', 'Reef restricted @A', 'Reef secret of bravo @B']);
    const seen = (forBea.items as Found[]).find((e) => e.name === 'Reef restricted')!;
    expect(seen).toMatchObject({ origin: a.clusterId, ownerCluster: a.clusterId, allowedProjects: [`${b.clusterId}/lab`] });
    // A's entries live at A: bravo's own catalog neither lists nor serves them.
    expect(await local(bea)).toEqual(['Reef of bravo @B', 'Reef secret of bravo @B']);
    expect(await gets(bea)).toEqual({ 'Reef public': 404, 'Reef private': 404, 'Reef restricted': 404 });

    // Peered cluster, not in an allowed project: only A's public entry.
    expect(await federated(ben)).toEqual(['Reef of bravo @B', 'Reef public @A', 'Reef secret of bravo @B']);
    expect(await gets(ben)).toEqual({ 'Reef public': 404, 'Reef private': 404, 'Reef restricted': 404 });

    // Unpeered cluster, even acting for an allowed project: nothing of A (nor of B); nobody to ask.
    expect(await federated(cid)).toEqual(['Reef of charlie @C']);
    expect(await local(cid)).toEqual(['Reef of charlie @C']);
    expect(await gets(cid)).toEqual({ 'Reef public': 404, 'Reef private': 404, 'Reef restricted': 404 });
    // And charlie's entries never reach alpha or bravo.
    expect(await federated(anna)).not.toContain('Reef of charlie @C');

    // Compute over /archipel/compute/1.0.0: bravo's user reserves on alpha, in alpha's ledger as bravo's
    // cluster for bea; nobody else of bravo sees or releases it; unpeered charlie reaches nothing.
    const remoteA = `/providers/compute/remote/${a.clusterId}`;
    const capacity = ok(await bea('GET', remoteA)).capacity as { cores: number; memoryMiB: number; gpus: number };
    expect(capacity).toEqual(ok(await anna('GET', '/providers/compute')).capacity);
    const held = ok(await bea('POST', `${remoteA}/reservations`, { cores: 0.5, memoryMiB: 64, durationSeconds: 600 }), 201);
    expect(held).toMatchObject({ requester: b.clusterId, user: 'bea', cores: 0.5, memoryMiB: 64, state: 'active' });
    const atAlpha = ok(await a.call('GET', `/providers/compute/reservations?requester=${b.clusterId}`)).items;
    expect(atAlpha).toEqual([expect.objectContaining({ id: held.id, requester: b.clusterId, user: 'bea' })]);
    expect(ok(await bea('GET', `${remoteA}/reservations`)).items.map((r: { id: string }) => r.id)).toEqual([held.id]);
    expect(ok(await ben('GET', `${remoteA}/reservations`)).items).toEqual([]);
    expect((await ben('DELETE', `${remoteA}/reservations/${held.id}`)).status).toBe(404);
    const tooMuch = await bea('POST', `${remoteA}/reservations`, { cores: capacity.cores + 1, durationSeconds: 60 });
    expect(tooMuch.status, JSON.stringify(tooMuch.body)).toBe(409);
    expect((await cid('POST', `/providers/compute/remote/${a.clusterId}/reservations`, { cores: 0.5, durationSeconds: 60 })).status).toBe(404);
    expect((await bea('GET', `/providers/compute/remote/${c.clusterId}`)).status).toBe(404);
    ok(await bea('DELETE', `${remoteA}/reservations/${held.id}`), 204);
    expect(ok(await a.call('GET', `/providers/compute/reservations/${held.id}`))).toMatchObject({ state: 'released' });
    // A compute entry that states nothing offers alpha's whole capacity, as its compute provider reports it.
    const offered = ok(await a.call('POST', '/catalog/entries', { kind: 'compute', name: 'Alpha cores', visibility: 'public', spec: {} }), 201);
    expect(offered.spec).toEqual(capacity);
    // Once alpha offers compute in entries, a peer sees and holds at most what the entries it sees offer.
    ok(await a.call('PATCH', `/catalog/entries/${offered.id}`, { spec: { cores: 1 } }));
    expect(ok(await bea('GET', remoteA)).capacity).toEqual({ ...capacity, cores: 1 });
    const overOffer = await bea('POST', `${remoteA}/reservations`, { cores: 1.5, durationSeconds: 60 });
    expect(overOffer.status, JSON.stringify(overOffer.body)).toBe(409);
    ok(await a.call('DELETE', `/catalog/entries/${offered.id}`), 204);

    // Access to a data entry over /archipel/access/1.0.0: the owner's visibility decides, as for search,
    // and the grant (a read-only directory here) is for the asking user of the asking cluster alone.
    const plots = path.join(root, 'coral-plots');
    mkdirSync(plots);
    writeFileSync(path.join(plots, 'plot-1.csv'), 'depth,cover\n5,0.4\n');
    const shared = ok(
      await a.call('POST', '/catalog/entries', {
        kind: 'data',
        name: 'Coral plots',
        description: 'Plot photos and cover estimates',
        visibility: 'restricted',
        allowedProjects: allowed,
        spec: { source: { type: 'directory', path: plots } },
      }),
      201,
    );
    const ask = (call: Call, cluster?: string) => call('POST', '/providers/access', { entry: { id: shared.id, ...(cluster ? { cluster } : {}) }, ttlSeconds: 300 });
    const forBeaAccess = ok(await ask(bea, a.clusterId), 201);
    expect(forBeaAccess.grant).toMatchObject({ ownerCluster: a.clusterId, entryId: shared.id, entryName: 'Coral plots', grantee: { cluster: b.clusterId, user: 'bea' } });
    expect(forBeaAccess.access).toMatchObject({ type: 'directory', readOnly: true });
    expect(readFileSync(path.join(forBeaAccess.access.path, 'plot-1.csv'), 'utf8')).toBe('depth,cover\n5,0.4\n');
    expect((await ask(ben, a.clusterId)).status).toBe(404);
    expect((await ask(cid, a.clusterId)).status).toBe(404);
    expect((await ask(axel)).status).toBe(404);
    expect(ok(await ask(anna), 201).grant).toMatchObject({ ownerCluster: a.clusterId, grantee: { cluster: 'local', user: 'anna' } });
    const grantsAtA = ok(await a.call('GET', '/providers/grants')).items as { id: string; entryId: string; grantee: { cluster: string; user: string } }[];
    expect(grantsAtA.map((g) => `${g.grantee.user}@${label(g.grantee.cluster)} ${g.entryId === shared.id}`).sort()).toEqual(['anna@local true', 'bea@B true']);
    // From her own node, bea lists the grants alpha made for her (ben sees none of them) and gives hers back:
    // her view of the data is gone. Alpha's admin revokes anna's.
    const beaGrants = ok(await bea('GET', `/providers/access?cluster=${a.clusterId}`)).items;
    expect(beaGrants).toEqual([expect.objectContaining({ id: forBeaAccess.grant.id, ownerCluster: a.clusterId, entryName: 'Coral plots', state: 'active' })]);
    expect(ok(await ben('GET', `/providers/access?cluster=${a.clusterId}`)).items).toEqual([]);
    expect((await ben('DELETE', `/providers/access/${forBeaAccess.grant.id}?cluster=${a.clusterId}`)).status).toBe(404);
    ok(await bea('DELETE', `/providers/access/${forBeaAccess.grant.id}?cluster=${a.clusterId}`), 204);
    expect(existsSync(path.join(forBeaAccess.access.path, 'plot-1.csv'))).toBe(false);
    expect(ok(await a.call('GET', '/providers/grants?state=all')).items).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: forBeaAccess.grant.id, state: 'revoked' })]),
    );
    const annaGrant = grantsAtA.find((g) => g.grantee.user === 'anna')!;
    ok(await a.call('DELETE', `/providers/grants/${annaGrant.id}`), 204);

    // A service entry of alpha, read and run by bravo's user on bravo: its tool, asked of alpha over the
    // catalog protocol as alpha lets bea see it; a private one stays hidden, and unpeered charlie gets nothing.
    const tool = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs:\n  message: {type: string, inputBinding: {position: 1}}\nstdout: said.txt\noutputs:\n  said: stdout\n';
    const echo = ok(await a.call('POST', '/catalog/entries', { kind: 'service', name: 'Echo service', visibility: 'restricted', allowedProjects: allowed, spec: { image: 'debian:12', cwl: tool } }), 201);
    const hiddenEcho = ok(await a.call('POST', '/catalog/entries', { kind: 'service', name: 'Private echo', visibility: 'private', spec: { image: 'debian:12', cwl: tool } }), 201);
    expect(ok(await bea('GET', `/catalog/entries/${echo.id}?cluster=${a.clusterId}`))).toMatchObject({ id: echo.id, name: 'Echo service', ownerCluster: a.clusterId, kind: 'service' });
    expect((await bea('GET', `/catalog/entries/${hiddenEcho.id}?cluster=${a.clusterId}`)).status).toBe(404);
    expect((await ben('GET', `/catalog/entries/${echo.id}?cluster=${a.clusterId}`)).status).toBe(404);
    expect((await cid('GET', `/catalog/entries/${echo.id}?cluster=${a.clusterId}`)).status).toBe(404);
    const submitted = ok(await bea('POST', '/runs', { project: 'lab', service: { id: echo.id, cluster: a.clusterId }, job: { message: 'hello from bravo' } }), 201);
    expect(submitted).toMatchObject({ name: 'Echo service', processClass: 'CommandLineTool' });
    await eventually(async () => expect(ok(await bea('GET', `/runs/${submitted.id}`)).phase).toBe('Succeeded'), 60_000, 250);
    // alpha's tool ran on bravo: its output is the message it was given.
    expect(ok(await bea('GET', `/runs/${submitted.id}/outputs`)).said).toMatchObject({ class: 'File', basename: 'said.txt', size: 'hello from bravo\n'.length });
    expect((await bea('POST', '/runs', { project: 'lab', service: { id: hiddenEcho.id, cluster: a.clusterId }, job: { message: 'x' } })).status).toBe(404);
    // A service whose tool runs only on its owner's cluster: the plan puts it there; bravo does not run it itself.
    const licensed = ok(await a.call('POST', '/catalog/entries', { kind: 'service', name: 'Licensed echo', visibility: 'public', spec: { image: 'debian:12', cwl: tool, runsOnOwner: true } }), 201);
    expect(licensed.spec.runsOnOwner).toBe(true);
    const licensedPlan = ok(await bea('POST', '/runs?dryRun=true', { project: 'lab', service: { id: licensed.id, cluster: a.clusterId }, job: { message: 'x' } }));
    expect(licensedPlan.steps.map((st: { cluster: string; reasons: string[] }) => [label(st.cluster), st.reasons[0]])).toEqual([['A', `its service runs only on alpha (${a.clusterId})`]]);
    // Run, it goes there: alpha's engine runs the tool for bravo's user, its files in bravo's store (S3).
    const there = ok(await bea('POST', '/runs', { project: 'lab', service: { id: licensed.id, cluster: a.clusterId }, job: { message: 'licensed hello' } }), 201);
    const ran = await eventually(async () => {
      const view = ok(await bea('GET', `/runs/${there.id}`));
      expect(['Succeeded', 'Failed', 'Error']).toContain(view.phase);
      return view;
    }, 60_000, 250);
    expect(ran.phase, ran.message).toBe('Succeeded');
    expect(ran.steps.map((st: { cluster: string }) => label(st.cluster))).toEqual(['A']);
    expect(ok(await bea('GET', `/runs/${there.id}/outputs`)).said).toMatchObject({ class: 'File', size: 'licensed hello\n'.length });
    expect((await cid('POST', '/runs', { project: 'lab', service: { id: echo.id, cluster: a.clusterId }, job: { message: 'x' } })).status).toBe(404);

    // A run on alpha reads bravo's S3 data entry: alpha's user is granted access by bravo, the files are
    // copied into the run through the pre-signed URLs; bravo's private entry stays out of reach.
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    for (const [key, body] of [['survey/2026/site-1.csv', 'depth,cover\n3,0.7\n'], ['survey/2026/site-2.csv', 'depth,cover\n9,0.2\n']]) {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
    }
    client.destroy();
    const survey = ok(await b.call('POST', '/catalog/entries', { kind: 'data', name: 'Site survey', visibility: 'public', spec: { source: { type: 's3', bucket: s3.bucket, prefix: 'survey/2026' } } }), 201);
    const secret = ok(await b.call('POST', '/catalog/entries', { kind: 'data', name: 'Site notes', visibility: 'private', spec: { source: { type: 's3', bucket: s3.bucket, prefix: 'survey/notes' } } }), 201);
    const lister = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sh, -c, \'cd "$0" && ls && cat site-1.csv\']\ninputs:\n  d: {type: Directory, inputBinding: {position: 1}}\nstdout: out.txt\noutputs:\n  out: stdout\n';
    const fromBravo = ok(await anna('POST', '/runs', { project: 'ops', cwl: lister, job: { d: { class: 'Directory', location: `archipel:catalog/${b.clusterId}/${survey.id}` } } }), 201);
    await eventually(async () => expect(ok(await anna('GET', `/runs/${fromBravo.id}`)).phase).toBe('Succeeded'), 60_000, 250);
    expect(ok(await anna('GET', `/runs/${fromBravo.id}/outputs`)).out).toMatchObject({ size: 'site-1.csv\nsite-2.csv\ndepth,cover\n3,0.7\n'.length });
    // Planned instead of run, the same job's step goes to bravo, where the data entry it reads is.
    const planned = ok(await anna('POST', '/runs?dryRun=true', { project: 'ops', cwl: lister, job: { d: { class: 'Directory', location: `archipel:catalog/${b.clusterId}/${survey.id}` } } }));
    expect(planned.steps.map((st: { cluster: string; reasons: string[] }) => [label(st.cluster), st.reasons[0]])).toEqual([['B', '1 of the 1 data entries it reads are there']]);
    const grantsAtBravo = ok(await b.call('GET', '/providers/grants')).items as { entryId: string; grantee: { cluster: string; user: string } }[];
    expect(grantsAtBravo.filter((g) => g.entryId === survey.id).map((g) => `${g.grantee.user}@${label(g.grantee.cluster)}`)).toEqual(['anna@A']);
    const hidden = await anna('POST', '/runs', { project: 'ops', cwl: lister, job: { d: { class: 'Directory', location: `archipel:catalog/${b.clusterId}/${secret.id}` } } });
    expect(hidden.status).toBe(400);
    expect(hidden.body.error.message).toMatch(/job\.d: no data catalog entry .* on cluster .* that you may see/);
    const unpeered = await cid('POST', '/runs', { project: 'lab', cwl: lister, job: { d: { class: 'Directory', location: `archipel:catalog/${b.clusterId}/${survey.id}` } } });
    expect(unpeered.status).toBe(400);

    // A plan on bravo for bea sees alpha through the peering (its compute status) and charlie not at all;
    // a step pinned to alpha goes there, the other stays on bravo; nothing runs.
    const twoSteps = `cwlVersion: v1.2
class: Workflow
$namespaces: {arc: "https://archipel.io/cwl#"}
inputs: {m: string}
outputs: {}
steps:
  here:
    in: {message: m}
    out: [said]
    run: {class: CommandLineTool, baseCommand: echo, inputs: {message: {type: string, inputBinding: {position: 1}}}, stdout: s.txt, outputs: {said: stdout}}
  there:
    in: {message: m}
    out: [said]
    hints: {'arc:Placement': {cluster: ${a.clusterId}}}
    run: {class: CommandLineTool, baseCommand: echo, inputs: {message: {type: string, inputBinding: {position: 1}}}, stdout: s.txt, outputs: {said: stdout}}
`;
    const runsBefore = ok(await bea('GET', '/runs')).items.length;
    const plan = ok(await bea('POST', '/runs?dryRun=true', { project: 'lab', cwl: twoSteps, job: { m: 'hi' } }));
    expect(plan.clusters.map((cl: { id: string; local: boolean; reachable: boolean }) => [label(cl.id), cl.local, cl.reachable])).toEqual([
      ['B', true, true],
      ['A', false, true],
    ]);
    expect(plan.steps.map((st: { step: string; cluster: string }) => [st.step, label(st.cluster)])).toEqual([
      ['here', 'B'],
      ['there', 'A'],
    ]);
    expect(plan.steps[1].reasons[0]).toBe(`pinned to alpha (${a.clusterId})`);
    expect(ok(await bea('GET', '/runs')).items.length).toBe(runsBefore);

    // Bravo goes down: alpha's federated search still answers with its own entries, partial, naming bravo.
    expect(await b.process.stop('SIGTERM')).toBe(0);
    const started = Date.now();
    const partial = ok(await anna('GET', '/catalog/search?q=reef&scope=federation&timeoutMs=2000'));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(partial).toMatchObject({
      scope: 'federation',
      partial: true,
      unanswered: [{ clusterId: b.clusterId, name: 'bravo', reason: expect.stringMatching(/^(unreachable|timeout)$/) }],
    });
    expect(show(partial.items)).toEqual(['Reef private @A', 'Reef public @A', 'Reef restricted @A']);
  });
});
