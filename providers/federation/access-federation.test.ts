import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCatalogService, type CatalogService, type LocalCaller } from '../../catalog/index.ts';
import { signFields } from '../../discovery/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createDirectoryGrantProvider } from '../access/directory-grant-provider.ts';
import { createEntryAccess } from '../access/entry-access.ts';
import { createGrantService, type GrantService } from '../access/grant-service.ts';
import { createAccessFederation, type AccessFederation, type AccessFederationOptions } from './access-federation.ts';
import { signAccessRequest, type AccessRequest, type UnsignedAccessRequest } from './access-protocol.ts';

interface Owner {
  id: string;
  key: PrivateKey;
  catalog: CatalogService;
  grants: GrantService;
  federation: AccessFederation;
  cleanup(): Promise<void>;
}

const admin = { userId: 'id-admin', userName: 'admin', isAdmin: true, tokenId: 't' };
let base: string;

async function key() {
  const k = await generateKeyPair('Ed25519');
  return { key: k, id: peerIdFromPrivateKey(k).toString() };
}

/** The owner cluster B, peered with `peers`: a catalog, a grants ledger on directories, and its side of the protocol. */
async function owner(peers: () => string[]): Promise<Owner> {
  const { key: k, id } = await key();
  const { db, cleanup } = await createTestDatabase();
  const catalog = createCatalogService({ db, clusterId: id, users: { existingUserNames: async (names) => [...names] } });
  const grants = createGrantService({ db, providers: { directory: createDirectoryGrantProvider({ root: join(base, 'grants'), readOnlyView: 'copy' }) } });
  const federation = createAccessFederation({
    entryAccess: createEntryAccess({ catalog, grants }),
    network: network(id, k, peers),
  });
  return { id, key: k, catalog, grants, federation, cleanup };
}

function network(id: string, k: PrivateKey, peers: () => string[]): AccessFederationOptions['network'] {
  return {
    clusterId: () => id,
    isPeered: (other) => peers().includes(other),
    sign: (domain, fields) => signFields(k, domain, fields),
    handlePeered: async () => {},
    openPeeredStream: async () => {
      throw new Error('not over the network in this test');
    },
  };
}

const caller = (clusterId: string, userName: string, projects: string[] = []): LocalCaller => ({
  kind: 'local',
  userId: `id-${userName}`,
  userName,
  isAdmin: false,
  projects: projects.map((p) => `${clusterId}/${p}`),
});

describe('access to a peered cluster’s catalog entries', () => {
  let a: { id: string; key: PrivateKey };
  let b: Owner;
  let peeredWithA = true;
  /** Another cluster peered with B, which might relay A's request as its own. */
  let relay: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'archipel-access-federation-'));
    await mkdir(join(base, 'reef'));
    await writeFile(join(base, 'reef', 'sites.csv'), 'site\nA\n');
    peeredWithA = true;
    a = await key();
    relay = (await key()).id;
    b = await owner(() => (peeredWithA ? [a.id, relay] : [relay]));
  });
  afterEach(async () => {
    await b.cleanup();
    await rm(base, { recursive: true, force: true });
  });

  /** A's side, with B answering through its own side as it would over the network (JSON both ways). */
  const requester = (overrides: Partial<AccessFederationOptions> = {}) =>
    createAccessFederation({
      entryAccess: {
        request: async () => Promise.reject(new Error('A owns nothing here')),
        list: async () => Promise.reject(new Error('A owns nothing here')),
        release: async () => Promise.reject(new Error('A owns nothing here')),
      },
      network: network(a.id, a.key, () => [b.id]),
      ask: async (_id, request) => JSON.parse(JSON.stringify(await b.federation.answer(JSON.parse(JSON.stringify(request)), a.id))),
      ...overrides,
    });

  const entry = (visibility: 'public' | 'private' | 'restricted', allowedProjects: string[] = []) =>
    b.catalog.create(caller(b.id, 'olivia'), {
      kind: 'data',
      name: `Reef ${visibility}`,
      visibility,
      ...(visibility === 'restricted' ? { allowedProjects } : {}),
      spec: { source: { type: 'directory', path: join(base, 'reef') } },
    } as never);

  it("grants a peer's user in an allowed project, at the owner, for that user of that cluster", async () => {
    const restricted = await entry('restricted', [`${a.id}/lab`]);
    const { grant, access } = await requester().request(caller(a.id, 'bea', ['lab']), b.id, restricted.id, { ttlSeconds: 300 });
    expect(grant).toMatchObject({ ownerCluster: b.id, entryId: restricted.id, entryName: 'Reef restricted', kind: 'data', targetType: 'directory', grantee: { cluster: a.id, user: 'bea' } });
    expect(grant.expiresAt.getTime() - grant.createdAt.getTime()).toBe(300_000);
    expect(await readFile(join((access as { path: string }).path, 'sites.csv'), 'utf8')).toBe('site\nA\n');
    const held = await b.grants.list(admin);
    expect(held.map((g) => [g.id, g.entryId, g.grantee.cluster, g.grantee.user, g.createdBy])).toEqual([[grant.id, restricted.id, a.id, 'bea', `bea@${a.id}`]]);
  });

  it('answers not found for what the user may not see, and for a cluster that is not peered, without asking it', async () => {
    const restricted = await entry('restricted', [`${a.id}/lab`]);
    const secret = await entry('private');
    await expect(requester().request(caller(a.id, 'ben', ['field']), b.id, restricted.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(requester().request(caller(a.id, 'bea', ['lab']), b.id, secret.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    let asked = false;
    const lonely = requester({ network: network(a.id, a.key, () => []), ask: async () => (asked = true) });
    await expect(lonely.request(caller(a.id, 'bea', ['lab']), b.id, restricted.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    expect(asked).toBe(false);
    // The owner refuses a cluster it is not peered with (any more).
    peeredWithA = false;
    await expect(requester().request(caller(a.id, 'bea', ['lab']), b.id, restricted.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-allowed' });
    expect(await b.grants.list(admin)).toEqual([]);
  });

  it('refuses forged, altered, misdirected or stale requests before granting anything', async () => {
    const open = await entry('public');
    const unsigned: UnsignedAccessRequest = { from: a.id, to: b.id, entryId: open.id, user: 'bea', projects: [], ttlSeconds: 60, deadline: Date.now() + 5000 };
    const sign = (k: PrivateKey, r: UnsignedAccessRequest) => signAccessRequest((d, f) => signFields(k, d, f), r);
    const refused = (reason: string) => ({ error: { code: 'invalid-input', message: `access request refused: ${reason}` } });
    const mallory = await generateKeyPair('Ed25519');
    expect(await b.federation.answer(await sign(mallory, unsigned), a.id)).toEqual(refused('bad signature'));
    const genuine: AccessRequest = await sign(a.key, unsigned);
    expect(await b.federation.answer({ ...genuine, ttlSeconds: 600 }, a.id)).toEqual(refused('bad signature'));
    expect(await b.federation.answer({ ...genuine, user: 'olivia' }, a.id)).toEqual(refused('bad signature'));
    expect(await b.federation.answer({ ...genuine, projects: [`${a.id}/lab`] }, a.id)).toEqual(refused('bad signature'));
    expect(await b.federation.answer(await sign(a.key, { ...unsigned, to: a.id }), a.id)).toEqual(refused('the request is meant for another cluster'));
    expect(await b.federation.answer(await sign(a.key, { ...unsigned, deadline: Date.now() - 60_000 }), a.id)).toEqual(refused('the request has expired'));
    expect(await b.federation.answer(genuine, relay)).toEqual(refused('the sender is not the connected cluster'));
    expect(await b.federation.answer({ ...genuine, extra: true }, a.id)).toEqual(refused('malformed request'));
    expect(await b.grants.list(admin)).toEqual([]);
    expect(await b.federation.answer(genuine, a.id)).toMatchObject({ grant: { grantee: { cluster: a.id, user: 'bea' } } });
  });

  it("lists and gives back a peer's user's own grants at the owner, and nobody else's", async () => {
    const restricted = await entry('restricted', [`${a.id}/lab`]);
    const open = await entry('public');
    const bea = caller(a.id, 'bea', ['lab']);
    const remote = requester();
    const { grant, access } = await remote.request(bea, b.id, restricted.id, { ttlSeconds: 300 });
    const forBen = (await remote.request(caller(a.id, 'ben'), b.id, open.id, { ttlSeconds: 300 })).grant;
    // A user named bea of another cluster, and a local user, hold grants of their own at B.
    const target = { kind: 'data' as const, source: { type: 'directory' as const, path: join(base, 'reef') } };
    const relayed = await b.grants.issue({ target, grantee: { cluster: relay, user: 'bea' }, ttlSeconds: 300, entryId: open.id }, { createdBy: `bea@${relay}` });
    await b.grants.issue({ target, grantee: { cluster: 'local', user: 'bea' }, ttlSeconds: 300, entryId: open.id }, { createdBy: 'bea' });

    const listed = await remote.list(bea, b.id);
    expect(listed).toEqual([
      expect.objectContaining({ id: grant.id, ownerCluster: b.id, entryId: restricted.id, entryName: 'Reef restricted', grantee: { cluster: a.id, user: 'bea' }, state: 'active', revokedAt: null }),
    ]);
    // Nobody gives back another's grant: ben's, or that of the other cluster's bea, are "not found" for her.
    await expect(remote.release(caller(a.id, 'ben'), b.id, grant.id)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(remote.release(bea, b.id, relayed.grant.id)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(remote.release(bea, b.id, forBen.id)).rejects.toMatchObject({ kind: 'not-found' });
    expect((await b.grants.list(admin)).filter((g) => g.state === 'active')).toHaveLength(4);

    const released = await remote.release(bea, b.id, grant.id);
    expect(released).toMatchObject({ id: grant.id, state: 'revoked', entryName: 'Reef restricted' });
    await expect(readFile(join((access as { path: string }).path, 'sites.csv'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await remote.list(bea, b.id)).toEqual([]);
    expect((await remote.list(bea, b.id, { state: 'all' })).map((g) => [g.id, g.state])).toEqual([[grant.id, 'revoked']]);
    expect((await remote.release(bea, b.id, grant.id)).state).toBe('revoked'); // twice: harmless
    const stillActive = (await b.grants.list(admin)).filter((g) => g.state === 'active').map((g) => g.id);
    expect(stillActive).toHaveLength(3);
    expect(stillActive).toEqual(expect.arrayContaining([forBen.id, relayed.grant.id]));

    // A signed list cannot be turned into a release, nor a release into another grant's.
    const sign = (r: UnsignedAccessRequest) => signAccessRequest((d, f) => signFields(a.key, d, f), r);
    const list = await sign({ from: a.id, to: b.id, op: 'list', user: 'bea', projects: [], deadline: Date.now() + 5000 });
    const refused = { error: { code: 'invalid-input', message: 'access request refused: bad signature' } };
    expect(await b.federation.answer({ ...list, op: 'release', grantId: forBen.id }, a.id)).toEqual(refused);
    const release = await sign({ from: a.id, to: b.id, op: 'release', grantId: grant.id, user: 'bea', projects: [], deadline: Date.now() + 5000 });
    expect(await b.federation.answer({ ...release, grantId: forBen.id }, a.id)).toEqual(refused);
    // A release naming no grant, or a list naming an entry, is malformed.
    expect(await b.federation.answer(await sign({ from: a.id, to: b.id, op: 'release', user: 'bea', projects: [], deadline: Date.now() + 5000 }), a.id)).toMatchObject({ error: { code: 'invalid-input' } });
    expect(await b.federation.answer(await sign({ from: a.id, to: b.id, op: 'list', entryId: open.id, user: 'bea', projects: [], deadline: Date.now() + 5000 }), a.id)).toMatchObject({ error: { code: 'invalid-input' } });
  });

  it('does not believe a grant made for someone else, and gives up at its deadline', async () => {
    const open = await entry('public');
    const other = requester({
      ask: async (_id, request) => {
        const reply = JSON.parse(JSON.stringify(await b.federation.answer(JSON.parse(JSON.stringify(request)), a.id)));
        return { ...reply, grant: { ...reply.grant, grantee: { cluster: a.id, user: 'mallory' } } };
      },
    });
    await expect(other.request(caller(a.id, 'bea'), b.id, open.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('not the one asked for') });
    const nonsense = requester({ ask: async () => ({ hello: 'world' }) });
    await expect(nonsense.request(caller(a.id, 'bea'), b.id, open.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'unavailable' });
    const silent = requester({ timeoutMs: 100, ask: () => new Promise(() => undefined) });
    const started = Date.now();
    await expect(silent.request(caller(a.id, 'bea'), b.id, open.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('within 100 ms') });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
