import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../core/index.ts';
import { signFields } from '../../discovery/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import type { CatalogEntry, LocalCaller } from '../entries/catalog-entry.ts';
import { createCatalogService, type CatalogService } from '../entries/catalog-service.ts';
import { dataEntry } from '../entries/catalog-test-fixtures.ts';
import { signSearchRequest, type SearchRequest } from './catalog-protocol.ts';
import { createFederatedSearch, mergeResults, type FederatedEntry, type FederatedSearchDeps } from './federated-search.ts';
import { createCatalogResponder } from './catalog-responder.ts';

interface Cluster {
  id: string;
  key: PrivateKey;
  catalog: CatalogService;
  cleanup(): Promise<void>;
}

async function cluster(): Promise<Cluster> {
  const key = await generateKeyPair('Ed25519');
  const id = peerIdFromPrivateKey(key).toString();
  const { db, cleanup } = await createTestDatabase();
  return { id, key, catalog: createCatalogService({ db, clusterId: id }), cleanup };
}

/** A data entry matched by its name only. */
const named = (name: string, rest: Partial<Parameters<typeof dataEntry>[0]> = {}) => dataEntry({ name, description: '', tags: [], ...rest });

const owner = (name = 'olivia'): LocalCaller => ({ kind: 'local', userId: `id-${name}`, userName: name, isAdmin: false, projects: [] });
const caller = (clusterId: string, projects: string[]): LocalCaller => ({
  kind: 'local',
  userId: 'id-alice',
  userName: 'alice',
  isAdmin: false,
  projects: projects.map((p) => `${clusterId}/${p}`),
});

/** A request that never gets an answer (until the requester gives up). */
const silent = (_id: string, _request: SearchRequest, signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

describe('federated catalog search', () => {
  let a: Cluster;
  let b: Cluster;
  const peerC = '12D3KooWSilentPeerThatNeverAnswers';
  const peerD = '12D3KooWUnreachablePeer';

  beforeEach(async () => {
    [a, b] = await Promise.all([cluster(), cluster()]);
    await a.catalog.create(owner(), named('Sea levels', { visibility: 'public' }));
    await a.catalog.create(owner(), named('Sea secrets of A', { visibility: 'private' }));
    await b.catalog.create(owner(), named('Sea temperatures', { visibility: 'public' }));
    await b.catalog.create(owner(), named('Sea private', { visibility: 'private' }));
    await b.catalog.create(owner(), named('Sea for the lab', { visibility: 'restricted', allowedProjects: [`${a.id}/lab`] }));
    await b.catalog.create(owner(), named('Sea for others', { visibility: 'restricted', allowedProjects: [`${a.id}/other`] }));
    await b.catalog.create(owner(), named('Forest cover', { visibility: 'public' }));
  });
  afterEach(async () => {
    await Promise.all([a.cleanup(), b.cleanup()]);
  });

  /** A's federated search, with B answering through its responder as it would over the network. */
  const searchOf = (overrides: Partial<FederatedSearchDeps> = {}, bPeered = true) => {
    const responder = createCatalogResponder({ catalog: b.catalog, clusterId: () => b.id, isPeered: (id) => bPeered && id === a.id });
    return createFederatedSearch({
      catalog: a.catalog,
      peers: () => [{ clusterId: b.id, name: 'bravo' }],
      // What travels is JSON: the request and the reply go through it, as on a stream.
      ask: async (id, request) => JSON.parse(JSON.stringify(await responder.answer(JSON.parse(JSON.stringify(request)), a.id))),
      sign: (domain, fields) => signFields(a.key, domain, fields),
      ...overrides,
    });
  };
  const names = (items: CatalogEntry[]) => items.map((e) => e.name);

  it("merges this cluster's results with a peer's, each labelled with its origin, as the owner lets the caller see them", async () => {
    const result = await searchOf().search(caller(a.id, ['lab']), { q: 'sea' });
    expect(result.partial).toBe(false);
    expect(result.unanswered).toEqual([]);
    expect(result.items.map((e) => [e.name, e.origin, e.ownerCluster])).toEqual([
      ['Sea for the lab', b.id, b.id],
      ['Sea levels', a.id, a.id],
      ['Sea secrets of A', a.id, a.id],
      ['Sea temperatures', b.id, b.id],
    ]);
    // Timestamps come back as dates, the caller's own project among the allowed ones.
    const lab = result.items[0]!;
    expect(lab.createdAt).toBeInstanceOf(Date);
    expect(lab.allowedProjects).toEqual([`${a.id}/lab`]);

    // Without the allowed project: B's restricted entry stays at B.
    expect(names((await searchOf().search(caller(a.id, ['physics']), { q: 'sea' })).items)).toEqual([
      'Sea levels',
      'Sea secrets of A',
      'Sea temperatures',
    ]);
  });

  it('passes the kind and the limit on, and keeps at most `limit` results in all', async () => {
    const result = await searchOf().search(caller(a.id, ['lab']), { q: '', limit: 3 });
    expect(names(result.items)).toEqual(['Forest cover', 'Sea for the lab', 'Sea levels']);
    expect((await searchOf().search(caller(a.id, ['lab']), { q: 'sea', kind: 'service' })).items).toEqual([]);
  });

  it('lists the peers that did not answer, and why, and still returns what the others answered', async () => {
    const responder = createCatalogResponder({ catalog: b.catalog, clusterId: () => b.id, isPeered: () => true });
    const search = searchOf({
      peers: () => [{ clusterId: b.id, name: 'bravo' }, { clusterId: peerC, name: 'charlie' }, { clusterId: peerD }],
      ask: async (id, request, signal) => {
        if (id === peerC) return silent(id, request, signal);
        if (id === peerD) throw new UnavailableError(`cannot reach cluster ${peerD}: connection refused`);
        return JSON.parse(JSON.stringify(await responder.answer(JSON.parse(JSON.stringify(request)), a.id)));
      },
    });
    const started = Date.now();
    const result = await search.search(caller(a.id, []), { q: 'sea temperatures', timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.partial).toBe(true);
    expect(result.items.map((e) => [e.name, e.origin])).toEqual([['Sea temperatures', b.id]]);
    expect(result.unanswered).toEqual([
      { clusterId: peerC, name: 'charlie', reason: 'timeout', message: 'no answer before the deadline' },
      { clusterId: peerD, reason: 'unreachable', message: expect.stringContaining('connection refused') },
    ]);
  });

  it('gives up on a peer at the deadline even when its transport ignores the signal', async () => {
    const search = searchOf({ peers: () => [{ clusterId: peerC }], ask: () => new Promise(() => undefined) });
    const result = await search.search(caller(a.id, []), { q: 'sea', timeoutMs: 100 });
    expect(result).toMatchObject({ partial: true, unanswered: [{ clusterId: peerC, reason: 'timeout' }] });
    expect(names(result.items)).toEqual(['Sea levels', 'Sea secrets of A']);
  });

  it('reports a peer that refuses the request (not peered on its side) and one whose reply is not believable', async () => {
    const refused = await searchOf({}, false).search(caller(a.id, ['lab']), { q: 'sea' });
    expect(refused.unanswered).toEqual([{ clusterId: b.id, name: 'bravo', reason: 'refused', message: expect.stringContaining('not peered') }]);
    expect(refused.items.every((e) => e.origin === a.id)).toBe(true);

    // A peer answering with an entry that claims another owner is not believed at all.
    const [entry] = await b.catalog.search({ kind: 'remote', cluster: a.id, user: 'alice', projects: [] }, { q: 'forest' });
    const liar = await searchOf({
      ask: async () => ({ items: [{ ...JSON.parse(JSON.stringify(entry)), ownerCluster: a.id }], truncated: false }),
    }).search(caller(a.id, []), { q: 'forest' });
    expect(liar).toMatchObject({ items: [], partial: true, unanswered: [{ clusterId: b.id, reason: 'invalid-reply' }] });
    const garbage = await searchOf({ ask: async () => ({ hello: 'world' }) }).search(caller(a.id, []), { q: 'forest' });
    expect(garbage.unanswered).toMatchObject([{ clusterId: b.id, reason: 'invalid-reply' }]);
  });

  it('refuses a bad limit or timeout, as the local search does', async () => {
    await expect(searchOf().search(caller(a.id, []), { timeoutMs: 60_000 })).rejects.toMatchObject({ kind: 'invalid-input' });
    await expect(searchOf().search(caller(a.id, []), { limit: 0 })).rejects.toMatchObject({ kind: 'invalid-input' });
  });
});

describe('the owner answering a peer', () => {
  let b: Cluster;
  let a: { id: string; key: PrivateKey };
  beforeEach(async () => {
    b = await cluster();
    const key = await generateKeyPair('Ed25519');
    a = { id: peerIdFromPrivateKey(key).toString(), key };
  });
  afterEach(() => b.cleanup());

  it('keeps its reply under the size limit and says so', async () => {
    for (let i = 0; i < 20; i++) await b.catalog.create(owner(), named(`Sea ${String(i).padStart(2, '0')}`, { visibility: 'public' }));
    const responder = createCatalogResponder({ catalog: b.catalog, clusterId: () => b.id, isPeered: () => true, maxReplyBytes: 4000 });
    const search = createFederatedSearch({
      catalog: { clusterId: () => a.id, search: async () => [] },
      peers: () => [{ clusterId: b.id }],
      ask: async (_id, request) => {
        const reply = await responder.answer(JSON.parse(JSON.stringify(request)), a.id);
        expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(4000);
        expect(reply).toMatchObject({ truncated: true });
        return JSON.parse(JSON.stringify(reply));
      },
      sign: (domain, fields) => signFields(a.key, domain, fields),
    });
    const result = await search.search(caller(a.id, []), { q: 'sea' });
    expect(result.items.length).toBeGreaterThan(0);
    expect(result.items.length).toBeLessThan(20);
    expect(result.items[0]!.name).toBe('Sea 00');
  });

  it('refuses a request that another cluster signed', async () => {
    const responder = createCatalogResponder({ catalog: b.catalog, clusterId: () => b.id, isPeered: () => true });
    const mallory = await generateKeyPair('Ed25519');
    const request = {
      from: a.id,
      to: b.id,
      q: '',
      user: 'alice',
      projects: [],
      limit: 10,
      deadline: Date.now() + 1000,
    };
    const forged = await signSearchRequest((d, f) => signFields(mallory, d, f), request);
    expect(await responder.answer(forged, a.id)).toEqual({ error: { code: 'invalid-input', message: 'catalog search refused: bad signature' } });
  });
});

describe('mergeResults', () => {
  const entry = (name: string, origin: string, id = name): FederatedEntry => ({ name, origin, id, ownerCluster: origin }) as FederatedEntry;

  it('orders as a local search does: the exact name, names starting with the query, then by name; ties by cluster', () => {
    const merged = mergeResults(
      '  Sea   Levels ',
      [
        [entry('Old sea levels', 'A'), entry('Sea levels 2020', 'A')],
        [entry('sea levels', 'B'), entry('Antarctic sea levels', 'B')],
        [entry('Sea Levels', 'C'), entry('Old sea levels', 'C', 'x')],
      ],
      10,
    );
    expect(merged.map((e) => [e.name, e.origin])).toEqual([
      ['sea levels', 'B'],
      ['Sea Levels', 'C'],
      ['Sea levels 2020', 'A'],
      ['Antarctic sea levels', 'B'],
      ['Old sea levels', 'A'],
      ['Old sea levels', 'C'],
    ]);
    expect(mergeResults('', [[entry('b', 'A')], [entry('a', 'B')]], 1).map((e) => e.name)).toEqual(['a']);
  });
});
