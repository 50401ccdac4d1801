import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError, type Principal } from '../../core/index.ts';
import { signFields } from '../../discovery/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createStaticCapacitySource } from '../compute/capacity-source.ts';
import { createComputeLedger, type ComputeLedger } from '../compute/compute-ledger.ts';
import { signComputeRequest, type UnsignedComputeRequest } from './compute-protocol.ts';
import { createComputeResponder } from './compute-responder.ts';
import { createRemoteCompute, type RemoteComputeDeps } from './remote-compute.ts';

const T0 = Date.parse('2030-03-01T08:00:00.000Z');
const HOUR = 3_600_000;

interface Cluster {
  id: string;
  key: PrivateKey;
  ledger: ComputeLedger;
  cleanup(): Promise<void>;
}

let now = T0;
const clock = { now: () => new Date(now) };

/** A cluster with 4 cores, 8 GiB and 1 GPU, each peer limited to 2 cores at once. */
async function cluster(): Promise<Cluster> {
  const key = await generateKeyPair('Ed25519');
  const id = peerIdFromPrivateKey(key).toString();
  const { db, cleanup } = await createTestDatabase();
  const ledger = createComputeLedger({
    db,
    capacity: createStaticCapacitySource({ cores: 4, memoryMiB: 8192, gpus: 1 }),
    peerQuota: { cores: 2 },
    clock,
  });
  return { id, key, ledger, cleanup };
}

const user = (name: string, isAdmin = false): Principal => ({ userId: `id-${name}`, userName: name, isAdmin, tokenId: `t-${name}` });
const alice = user('alice');
const bob = user('bob');
const owner: Principal = user('olivia', true);

/** A request that never gets an answer (until the requester gives up). */
const silent = (_id: string, _request: unknown, signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

describe('compute reservations from a peered cluster', () => {
  let a: Cluster;
  let b: Cluster;

  beforeEach(async () => {
    now = T0;
    [a, b] = await Promise.all([cluster(), cluster()]);
  });
  afterEach(async () => {
    await Promise.all([a.cleanup(), b.cleanup()]);
  });

  /** A's client, with B answering through its responder as it would over the network (JSON both ways). */
  const remoteOf = (overrides: Partial<RemoteComputeDeps> = {}, bPeered = true) => {
    const responder = createComputeResponder({ ledger: b.ledger, clusterId: () => b.id, isPeered: (id) => bPeered && id === a.id, clock });
    return createRemoteCompute({
      clusterId: () => a.id,
      isPeered: (id) => id === b.id,
      ask: async (_id, request) => JSON.parse(JSON.stringify(await responder.answer(JSON.parse(JSON.stringify(request)), a.id))),
      sign: (domain, fields) => signFields(a.key, domain, fields),
      clock,
      ...overrides,
    });
  };

  it("grants a reservation within the peer's quota, held in the owner's ledger by the peer's cluster for its user", async () => {
    const remote = remoteOf();
    const reservation = await remote.reserve(alice, b.id, { cores: 2, memoryMiB: 1024, start: new Date(T0 + HOUR), durationSeconds: 3600 });
    expect(reservation).toMatchObject({ requester: a.id, userName: 'alice', cores: 2, memoryMiB: 1024, gpus: 0, state: 'scheduled' });
    expect(reservation.start).toEqual(new Date(T0 + HOUR));
    expect(reservation.end).toEqual(new Date(T0 + 2 * HOUR));

    // The owner sees it among its own, with the peer as requester.
    const held = await b.ledger.list({ kind: 'user', principal: owner });
    expect(held.map((r) => [r.id, r.requester, r.userName])).toEqual([[reservation.id, a.id, 'alice']]);
    // Nothing is recorded at the requesting cluster.
    expect(await a.ledger.list({ kind: 'user', principal: owner })).toEqual([]);

    now = T0 + HOUR + 1;
    // The peer is shown what it may hold (its quota of 2 cores within the capacity of 4), and what it holds.
    expect(await remote.status(alice, b.id)).toMatchObject({
      capacity: { cores: 2, memoryMiB: 8192, gpus: 1 },
      inUse: { cores: 2, memoryMiB: 1024, gpus: 0 },
      free: { cores: 0, memoryMiB: 7168, gpus: 1 },
      peerQuota: { cores: 2 },
    });
  });

  it("passes the owner's conflict on: over the peer's quota, then over the capacity", async () => {
    const remote = remoteOf();
    await remote.reserve(alice, b.id, { cores: 2, durationSeconds: 3600 });
    const overQuota = remote.reserve(bob, b.id, { cores: 1, durationSeconds: 3600 });
    await expect(overQuota).rejects.toMatchObject({ kind: 'conflict', message: expect.stringMatching(new RegExp(`^over the quota of cluster ${a.id}: 1 core`)) });

    // Once alice's reservation has expired the quota is free again; the owner's own users take 3 cores
    // of 4, so the peer, within its quota, still does not fit.
    now = T0 + HOUR;
    await b.ledger.reserve({ kind: 'user', principal: owner }, { cores: 3, durationSeconds: 7200 });
    const overCapacity = remote.reserve(bob, b.id, { cores: 2, durationSeconds: 600 });
    await expect(overCapacity).rejects.toMatchObject({ kind: 'conflict', message: expect.stringMatching(/^not enough capacity: 2 cores requested, 1 core free/) });
    // Invalid windows come back as invalid input, as the owner's ledger words them.
    await expect(remote.reserve(bob, b.id, { cores: 1 })).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringContaining('end') });
  });

  it('lets the user who made it release it, and no other user of the same cluster', async () => {
    const remote = remoteOf();
    const reservation = await remote.reserve(alice, b.id, { cores: 2, durationSeconds: 3600 });
    await expect(remote.release(bob, b.id, reservation.id)).rejects.toMatchObject({ kind: 'not-found' });
    const released = await remote.release(alice, b.id, reservation.id);
    expect(released).toMatchObject({ id: reservation.id, state: 'released' });
    expect((await b.ledger.get({ kind: 'user', principal: owner }, reservation.id)).releasedAt).toEqual(new Date(T0));
    // Releasing twice is harmless; the quota is free again.
    expect(await remote.release(alice, b.id, reservation.id)).toMatchObject({ state: 'released' });
    await expect(remote.reserve(bob, b.id, { cores: 2, durationSeconds: 3600 })).resolves.toMatchObject({ userName: 'bob' });
  });

  it("lists and reads the user's own reservations there, and no one else's", async () => {
    const remote = remoteOf();
    const first = await remote.reserve(alice, b.id, { cores: 1, durationSeconds: 3600 });
    const second = await remote.reserve(alice, b.id, { cores: 1, start: new Date(T0 + HOUR), durationSeconds: 600 });
    const bobs = await remote.reserve(bob, b.id, { memoryMiB: 512, durationSeconds: 60 });
    await b.ledger.reserve({ kind: 'user', principal: owner }, { cores: 1, durationSeconds: 3600 });

    expect((await remote.list(alice, b.id)).map((r) => r.id)).toEqual([first.id, second.id]);
    expect((await remote.list(bob, b.id)).map((r) => r.id)).toEqual([bobs.id]);
    expect((await remote.list(alice, b.id, { limit: 1 })).map((r) => r.id)).toEqual([first.id]);
    expect(await remote.get(alice, b.id, second.id)).toMatchObject({ id: second.id, userName: 'alice', state: 'scheduled' });
    await expect(remote.get(bob, b.id, second.id)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(remote.list(alice, b.id, { limit: 0 })).rejects.toMatchObject({ kind: 'invalid-input' });

    // Released and expired ones leave the current list, and stay in `all`.
    await remote.release(alice, b.id, first.id);
    now = T0 + 2 * HOUR;
    expect(await remote.list(alice, b.id)).toEqual([]);
    expect((await remote.list(alice, b.id, { state: 'all' })).map((r) => [r.id, r.state])).toEqual([
      [first.id, 'released'],
      [second.id, 'expired'],
    ]);
    // A list holding another cluster's reservation is not believed.
    const liar = remoteOf({ ask: async () => ({ reservations: [{ ...JSON.parse(JSON.stringify(first)), requester: b.id }] }) });
    await expect(liar.list(alice, b.id)).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('refuses a cluster that is not peered: on our side without asking, and on the owner side', async () => {
    let asked = false;
    const unpeered = remoteOf({
      isPeered: () => false,
      ask: async () => {
        asked = true;
        return {};
      },
    });
    await expect(unpeered.reserve(alice, b.id, { cores: 1, durationSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    expect(asked).toBe(false);

    await expect(remoteOf({}, false).reserve(alice, b.id, { cores: 1, durationSeconds: 60 })).rejects.toMatchObject({
      kind: 'not-allowed',
      message: expect.stringContaining('not peered'),
    });
    expect(await b.ledger.list({ kind: 'user', principal: owner })).toEqual([]);
  });

  it('is unavailable when the owner does not answer in time, cannot be reached, or answers nonsense', async () => {
    const started = Date.now();
    await expect(remoteOf({ ask: silent, timeoutMs: 100 }).status(alice, b.id)).rejects.toMatchObject({
      kind: 'unavailable',
      message: expect.stringContaining('did not answer within 100 ms'),
    });
    await expect(remoteOf({ ask: () => new Promise(() => undefined), timeoutMs: 100 }).status(alice, b.id)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(5000);
    const refused = remoteOf({
      ask: async () => {
        throw new UnavailableError('connection refused');
      },
    });
    await expect(refused.status(alice, b.id)).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(remoteOf({ ask: async () => ({ hello: 'world' }) }).status(alice, b.id)).rejects.toMatchObject({ kind: 'unavailable' });
    // A reservation held for another cluster is not believed.
    const reservation = await remoteOf().reserve(alice, b.id, { cores: 1, durationSeconds: 60 });
    const liar = remoteOf({ ask: async () => ({ reservation: { ...JSON.parse(JSON.stringify(reservation)), requester: b.id } }) });
    await expect(liar.reserve(alice, b.id, { cores: 1, durationSeconds: 60 })).rejects.toMatchObject({ kind: 'unavailable' });
  });
});

describe('the owner answering a compute request', () => {
  let b: Cluster;
  let a: { id: string; key: PrivateKey };
  beforeEach(async () => {
    now = T0;
    b = await cluster();
    const key = await generateKeyPair('Ed25519');
    a = { id: peerIdFromPrivateKey(key).toString(), key };
  });
  afterEach(() => b.cleanup());

  const responder = () => createComputeResponder({ ledger: b.ledger, clusterId: () => b.id, isPeered: () => true, clock });
  const unsigned = (overrides: Partial<UnsignedComputeRequest> = {}): UnsignedComputeRequest => ({
    from: a.id,
    to: b.id,
    op: 'reserve',
    user: 'alice',
    cores: 1,
    memoryMiB: 0,
    gpus: 0,
    durationSeconds: 600,
    deadline: T0 + 3000,
    ...overrides,
  });
  const signedBy = (key: PrivateKey, overrides: Partial<UnsignedComputeRequest> = {}) =>
    signComputeRequest((d, f) => signFields(key, d, f), unsigned(overrides));
  const refusedWith = (reason: string) => ({ error: { code: 'invalid-input', message: `compute request refused: ${reason}` } });

  it('refuses a forged signature, a changed field, another recipient, a stale or far deadline, and a relayed request', async () => {
    const mallory = await generateKeyPair('Ed25519');
    expect(await responder().answer(await signedBy(mallory), a.id)).toEqual(refusedWith('bad signature'));
    const genuine = await signedBy(a.key);
    expect(await responder().answer({ ...genuine, cores: 2 }, a.id)).toEqual(refusedWith('bad signature'));
    expect(await responder().answer({ ...genuine, user: 'bob' }, a.id)).toEqual(refusedWith('bad signature'));
    expect(await responder().answer(await signedBy(a.key, { to: a.id }), a.id)).toEqual(refusedWith('the request is meant for another cluster'));
    expect(await responder().answer(await signedBy(a.key, { deadline: T0 - 60_000 }), a.id)).toEqual(refusedWith('the request has expired'));
    expect(await responder().answer(await signedBy(a.key, { deadline: T0 + 10 * 60_000 }), a.id)).toEqual(
      refusedWith('the deadline is too far ahead'),
    );
    expect(await responder().answer(genuine, b.id)).toEqual(refusedWith('the sender is not the connected cluster'));
    expect(await responder().answer({ ...genuine, extra: 1 }, a.id)).toEqual(refusedWith('malformed request'));
    expect(await responder().answer(await signedBy(a.key, { op: 'release' }), a.id)).toEqual(refusedWith('malformed request'));
    expect(await responder().answer(await signedBy(a.key, { op: 'get' }), a.id)).toEqual(refusedWith('malformed request'));
    expect(await responder().answer(await signedBy(a.key, { op: 'list', limit: 501 }), a.id)).toEqual(refusedWith('malformed request'));
    expect(await responder().answer({ ...(await signedBy(a.key, { op: 'list' })), state: 'all' }, a.id)).toEqual(refusedWith('bad signature'));
    // None of them reached the ledger; the genuine one does.
    expect(await b.ledger.list({ kind: 'user', principal: owner })).toEqual([]);
    expect(await responder().answer(genuine, a.id)).toMatchObject({ reservation: { requester: a.id, userName: 'alice', cores: 1 } });
  });

  it('refuses a cluster that is not peered before reading its request', async () => {
    const unpeered = createComputeResponder({ ledger: b.ledger, clusterId: () => b.id, isPeered: () => false, clock });
    expect(await unpeered.answer(await signedBy(a.key), a.id)).toEqual({ error: { code: 'not-allowed', message: 'this cluster is not peered with yours' } });
  });
});
