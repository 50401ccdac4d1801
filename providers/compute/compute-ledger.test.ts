import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  InvalidInputError,
  NotAllowedError,
  NotFoundError,
  type Principal,
  type SqlDatabase,
} from '../../core/index.ts';
import { createPostgresDatabase } from '../../platform/sql/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createStaticCapacitySource } from './capacity-source.ts';
import { createComputeLedger, type ComputeActor, type ComputeLedgerOptions, type ComputeReservation } from './compute-ledger.ts';

const T0 = Date.parse('2030-03-01T08:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number) => new Date(T0 + ms);

const principal = (userName: string, isAdmin = false): Principal => ({ userId: `id-${userName}`, userName, isAdmin, tokenId: `t-${userName}` });
const admin: ComputeActor = { kind: 'user', principal: principal('admin', true) };
const alice: ComputeActor = { kind: 'user', principal: principal('alice') };
const bob: ComputeActor = { kind: 'user', principal: principal('bob') };
const PEER_A = '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35';
const PEER_B = '12D3KooWBmwkafWE2fqfzS96VoTZUdZEhRUM5XPv8rQdmMDhEyd4';
const peerA: ComputeActor = { kind: 'peer', clusterId: PEER_A };
const peerB: ComputeActor = { kind: 'peer', clusterId: PEER_B };

let db: SqlDatabase;
let cleanup: () => Promise<void>;
let now: number;
const clock = { now: () => new Date(now) };

beforeEach(async () => {
  ({ db, cleanup } = await createTestDatabase());
  now = T0;
});
afterEach(() => cleanup());

const ledgerWith = (options: Partial<ComputeLedgerOptions> = {}) =>
  createComputeLedger({ db, capacity: createStaticCapacitySource({ cores: 8, memoryMiB: 16384, gpus: 2 }), clock, ...options });

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error & { details?: Record<string, unknown>; issues?: { path: string; message: string }[] }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, got a result');
}

/**
 * The database the concurrency test fires at. On PostgreSQL a pool of its own, larger than the test
 * database's, on the same schema: many transactions are truly in flight at once, on separate server
 * connections, and only the ledger's lock keeps them from over-committing. PGlite has a single connection
 * whose transactions queue on its mutex; the test still checks the ledger's arithmetic there.
 */
async function concurrentDatabase(): Promise<{ db: SqlDatabase; connections: number; close(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) return { db, connections: 1, close: async () => {} };
  const { rows } = await db.query<{ schema: string }>('SELECT current_schema() AS schema');
  const pool = await createPostgresDatabase({ url, schema: rows[0]!.schema, max: 16 });
  return { db: pool, connections: 16, close: () => pool.close() };
}

describe('compute reservation ledger', () => {
  it('never over-commits under 200 concurrent requests, and rejects only what did not fit', async () => {
    const capacity = { cores: 16, memoryMiB: 32768, gpus: 4 };
    const target = await concurrentDatabase();
    try {
      const ledger = createComputeLedger({ db: target.db, capacity: createStaticCapacitySource(capacity), clock });
      let seed = 20300301;
      const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      // Overlapping windows within 12 hours, sizes from half a core to 6 cores: far more than fits.
      const requests = Array.from({ length: 200 }, (_, i) => {
        const start = at(random(20) * 0.5 * HOUR);
        return {
          actor: [alice, bob, admin][i % 3]!,
          request: {
            cores: (1 + random(12)) / 2,
            memoryMiB: 512 * (1 + random(16)),
            gpus: random(3),
            start,
            end: new Date(start.getTime() + (1 + random(8)) * 0.5 * HOUR),
          },
        };
      });
      const outcomes = await Promise.allSettled(requests.map(({ actor, request }) => ledger.reserve(actor, request)));

      const granted: ComputeReservation[] = [];
      const rejected: { request: (typeof requests)[number]['request']; error: ConflictError }[] = [];
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') granted.push(outcome.value);
        else {
          // Every rejection is a capacity conflict, never a database error that escaped.
          expect(outcome.reason).toBeInstanceOf(ConflictError);
          expect((outcome.reason as Error).message).toMatch(/^not enough capacity: .+ requested, .+ free in that window/);
          rejected.push({ request: requests[i]!.request, error: outcome.reason as ConflictError });
        }
      });
      expect(granted.length).toBeGreaterThan(10);
      expect(rejected.length).toBeGreaterThan(10);

      // What the ledger holds is exactly what it granted.
      const stored = await ledger.list(admin, { state: 'all' });
      expect(stored.map((r) => r.id).sort()).toEqual(granted.map((r) => r.id).sort());

      const sumAt = (t: number) => {
        const holding = stored.filter((r) => r.start.getTime() <= t && t < r.end.getTime());
        return {
          cores: holding.reduce((s, r) => s + r.cores * 1000, 0) / 1000,
          memoryMiB: holding.reduce((s, r) => s + r.memoryMiB, 0),
          gpus: holding.reduce((s, r) => s + r.gpus, 0),
        };
      };
      // Usage only rises where a reservation starts: checking every start checks every instant.
      for (const t of new Set(stored.map((r) => r.start.getTime()))) {
        const used = sumAt(t);
        expect(used.cores, `cores at ${new Date(t).toISOString()}`).toBeLessThanOrEqual(capacity.cores);
        expect(used.memoryMiB, `memory at ${new Date(t).toISOString()}`).toBeLessThanOrEqual(capacity.memoryMiB);
        expect(used.gpus, `GPUs at ${new Date(t).toISOString()}`).toBeLessThanOrEqual(capacity.gpus);
      }

      // Nothing was released, so what did not fit when it was refused does not fit now either: at some
      // instant of its window, one of the resources it named would go over.
      for (const { request, error } of rejected) {
        const shortfalls = error.details.shortfalls as { resource: 'cores' | 'memoryMiB' | 'gpus' }[];
        expect(shortfalls.length).toBeGreaterThan(0);
        const instants = [request.start.getTime(), ...stored.map((r) => r.start.getTime())].filter(
          (t) => t >= request.start.getTime() && t < request.end.getTime(),
        );
        const overflows = shortfalls.some(({ resource }) =>
          instants.some((t) => sumAt(t)[resource] + request[resource] > capacity[resource]),
        );
        expect(overflows, `rejected ${JSON.stringify(request)}: ${error.message}`).toBe(true);
      }
    } finally {
      await target.close();
    }
  });

  it('reserves, shows what is in use and free, and names the resource that is short', async () => {
    const ledger = ledgerWith();
    const reservation = await ledger.reserve(alice, { cores: 6, memoryMiB: 4096, durationSeconds: 3600 });
    expect(reservation).toMatchObject({
      providerId: 'local',
      requester: 'local',
      userName: 'alice',
      cores: 6,
      memoryMiB: 4096,
      gpus: 0,
      start: at(0),
      end: at(HOUR),
      releasedAt: null,
      state: 'active',
    });
    expect(await ledger.get(alice, reservation.id)).toEqual(reservation);
    expect(await ledger.status()).toMatchObject({
      capacity: { cores: 8, memoryMiB: 16384, gpus: 2 },
      inUse: { cores: 6, memoryMiB: 4096, gpus: 0 },
      free: { cores: 2, memoryMiB: 12288, gpus: 2 },
    });

    const short = await failure(ledger.reserve(bob, { cores: 2.5, memoryMiB: 1024, gpus: 3, end: at(2 * HOUR) }));
    expect(short).toBeInstanceOf(ConflictError);
    expect(short.message).toMatch(/^not enough capacity: 2.5 cores requested, 2 cores free in that window; 3 GPUs requested, 2 GPUs free in that window/);
    expect(short.details).toMatchObject({
      reason: 'capacity',
      shortfalls: [
        { resource: 'cores', requested: 2.5, free: 2, limit: 8 },
        { resource: 'gpus', requested: 3, free: 2, limit: 2 },
      ],
    });
    // Fractions of a core add up exactly.
    await ledger.reserve(bob, { cores: 0.7, end: at(HOUR) });
    await ledger.reserve(bob, { cores: 1.3, end: at(HOUR) });
    expect((await ledger.status()).free.cores).toBe(0);
  });

  it('checks every instant of the window, ends being exclusive', async () => {
    const ledger = ledgerWith();
    await ledger.reserve(admin, { cores: 8, start: at(HOUR), end: at(2 * HOUR) });
    // Before the busy hour, ending when it starts: fits.
    await ledger.reserve(alice, { cores: 8, end: at(HOUR) });
    // From when it ends: fits.
    await ledger.reserve(alice, { cores: 8, start: at(2 * HOUR), end: at(3 * HOUR) });
    // Overlapping it by a minute at either edge: does not fit.
    expect(await failure(ledger.reserve(bob, { cores: 1, start: at(HOUR - 60_000), end: at(HOUR + 1) }))).toBeInstanceOf(ConflictError);
    expect(await failure(ledger.reserve(bob, { cores: 1, start: at(2 * HOUR - 1), end: at(4 * HOUR) }))).toBeInstanceOf(ConflictError);
    // Memory is free all along.
    await ledger.reserve(bob, { memoryMiB: 8192, end: at(4 * HOUR) });
  });

  it('lets reservations expire at their end, by the injected clock', async () => {
    const ledger = ledgerWith();
    const first = await ledger.reserve(alice, { cores: 8, gpus: 2, durationSeconds: 3600 });
    expect(await failure(ledger.reserve(bob, { cores: 1, durationSeconds: 60 }))).toBeInstanceOf(ConflictError);

    now = T0 + HOUR - 1;
    expect((await ledger.get(alice, first.id)).state).toBe('active');
    now = T0 + HOUR;
    expect((await ledger.get(alice, first.id)).state).toBe('expired');
    expect((await ledger.status()).free).toEqual({ cores: 8, memoryMiB: 16384, gpus: 2 });
    const second = await ledger.reserve(bob, { cores: 8, gpus: 2, durationSeconds: 60 });
    expect(second.start).toEqual(at(HOUR));

    expect((await ledger.list(admin)).map((r) => r.id)).toEqual([second.id]);
    expect((await ledger.list(admin, { state: 'all' })).map((r) => [r.id, r.state])).toEqual([
      [first.id, 'expired'],
      [second.id, 'active'],
    ]);
    // A start in the past counts as now: the past cannot be reserved.
    now = T0 + 2 * HOUR;
    const late = await ledger.reserve(alice, { cores: 1, start: at(0), end: at(3 * HOUR) });
    expect(late.start).toEqual(at(2 * HOUR));
  });

  it('releases early for the holder or an admin, hides reservations from other users', async () => {
    const ledger = ledgerWith();
    const mine = await ledger.reserve(alice, { cores: 8, start: at(HOUR), end: at(3 * HOUR) });
    expect(mine.state).toBe('scheduled');

    expect(await failure(ledger.get(bob, mine.id))).toBeInstanceOf(NotFoundError);
    expect(await failure(ledger.release(bob, mine.id))).toBeInstanceOf(NotFoundError);
    expect(await failure(ledger.release(peerA, mine.id))).toBeInstanceOf(NotFoundError);
    expect(await ledger.list(bob)).toEqual([]);
    expect((await ledger.list(alice)).map((r) => r.id)).toEqual([mine.id]);
    expect(await failure(ledger.reserve(bob, { cores: 1, start: at(2 * HOUR), end: at(4 * HOUR) }))).toBeInstanceOf(ConflictError);

    now = T0 + 90 * 60_000;
    const released = await ledger.release(alice, mine.id);
    expect(released).toMatchObject({ state: 'released', releasedAt: at(90 * 60_000) });
    // Releasing again changes nothing.
    expect(await ledger.release(alice, mine.id)).toEqual(released);
    await ledger.reserve(bob, { cores: 8, start: at(2 * HOUR), end: at(4 * HOUR) });

    const other = await ledger.reserve(alice, { gpus: 1, durationSeconds: 600 });
    expect((await ledger.release(admin, other.id)).state).toBe('released');
    expect(await failure(ledger.get(alice, 'no-such-id'))).toBeInstanceOf(NotFoundError);
  });

  it('releases all that a peer cluster holds when its peering ends, and nothing of anyone else', async () => {
    const ledger = ledgerWith();
    const active = await ledger.reserve({ kind: 'peer', clusterId: PEER_A, userName: 'ann' }, { cores: 2, durationSeconds: 3600 });
    const scheduled = await ledger.reserve(peerA, { cores: 1, start: at(2 * HOUR), end: at(3 * HOUR) });
    const forA = await ledger.reserve(admin, { cores: 1, durationSeconds: 3600, requester: PEER_A });
    const ended = await ledger.reserve(peerA, { cores: 1, durationSeconds: 60 });
    const theirs = await ledger.reserve(peerB, { cores: 1, durationSeconds: 3600 });
    const ours = await ledger.reserve(alice, { cores: 1, durationSeconds: 3600 });
    now = T0 + 120_000;

    expect(await ledger.releaseRequester(PEER_A, { by: 'peering:blocked' })).toBe(3);
    for (const id of [active.id, scheduled.id, forA.id]) expect(await ledger.get(admin, id)).toMatchObject({ state: 'released', releasedAt: at(120_000) });
    expect((await ledger.get(admin, ended.id)).state).toBe('expired');
    expect((await ledger.get(admin, theirs.id)).state).toBe('active');
    expect((await ledger.get(admin, ours.id)).state).toBe('active');
    const { rows } = await db.query<{ released_by: string }>('SELECT released_by FROM compute_reservations WHERE id = $1', [active.id]);
    expect(rows[0]!.released_by).toBe('peering:blocked');
    // Its capacity is free again; doing it again releases nothing more.
    expect((await ledger.status()).inUse).toMatchObject({ cores: 2 });
    expect(await ledger.releaseRequester(PEER_A)).toBe(0);
    // This cluster's own users are no peer whose peering could end.
    expect(await failure(ledger.releaseRequester('local'))).toBeInstanceOf(InvalidInputError);
    expect(await failure(ledger.releaseRequester('not a cluster'))).toBeInstanceOf(InvalidInputError);
  });

  it('holds each peer within its quota, and only peers', async () => {
    const ledger = ledgerWith({ peerQuota: { cores: 4, gpus: 1 } });
    expect((await ledger.status()).peerQuota).toEqual({ cores: 4, gpus: 1 });

    const first = await ledger.reserve(peerA, { cores: 3, durationSeconds: 3600 });
    expect(first.requester).toBe(PEER_A);
    expect(first.userName).toBeNull();
    const over = await failure(ledger.reserve(peerA, { cores: 2, gpus: 1, start: at(30 * 60_000), end: at(2 * HOUR) }));
    expect(over).toBeInstanceOf(ConflictError);
    expect(over.message).toMatch(`over the quota of cluster ${PEER_A}: 2 cores requested, 1 core left of its quota of 4 cores in that window`);
    expect(over.details).toMatchObject({ reason: 'quota', requester: PEER_A });
    // After its first reservation ends, the peer has its whole quota again.
    await ledger.reserve(peerA, { cores: 4, start: at(HOUR), end: at(2 * HOUR) });
    // Another peer has a quota of its own; an admin reserving for a peer counts against that peer's.
    await ledger.reserve(peerB, { cores: 1, gpus: 1, durationSeconds: 60 });
    expect(await failure(ledger.reserve(admin, { requester: PEER_A, cores: 2, durationSeconds: 60 }))).toBeInstanceOf(ConflictError);
    // The peer sees its own reservations, made by it or for it.
    expect((await ledger.list(peerA)).map((r) => r.cores)).toEqual([3, 4]);
    // Local users are limited by the capacity only.
    await ledger.reserve(alice, { cores: 4, durationSeconds: 60 });
    await failure(ledger.reserve(alice, { cores: 1, durationSeconds: 60 }));
  });

  it('takes a quota per peer from a function', async () => {
    const ledger = ledgerWith({ peerQuota: (clusterId) => (clusterId === PEER_A ? { memoryMiB: 1024 } : undefined) });
    expect((await ledger.status()).peerQuota).toBeNull();
    expect(await failure(ledger.reserve(peerA, { memoryMiB: 2048, durationSeconds: 60 }))).toBeInstanceOf(ConflictError);
    await ledger.reserve(peerB, { memoryMiB: 8192, durationSeconds: 60 });
  });

  it('holds each peer within what is offered to it, and shows it that bound rather than the capacity', async () => {
    // A's users see a compute entry offering 1 core (and the quota allows 4); B sees none.
    const offers: Record<string, { cores?: number; memoryMiB?: number; gpus?: number } | null> = { [PEER_A]: { cores: 1, memoryMiB: 16384, gpus: 0 }, [PEER_B]: null };
    const ledger = ledgerWith({ peerQuota: { cores: 4 }, peerOffer: async (clusterId) => offers[clusterId] ?? null });

    expect(await ledger.status({ requester: PEER_A })).toMatchObject({
      capacity: { cores: 1, memoryMiB: 16384, gpus: 0 },
      inUse: { cores: 0, memoryMiB: 0, gpus: 0 },
      free: { cores: 1, memoryMiB: 16384, gpus: 0 },
      peerQuota: { cores: 4 },
    });
    await ledger.reserve(peerA, { cores: 0.75, durationSeconds: 3600 });
    const over = await failure(ledger.reserve(peerA, { cores: 0.5, durationSeconds: 60 }));
    expect(over).toBeInstanceOf(ConflictError);
    expect(over.message).toMatch(`over the quota of cluster ${PEER_A}: 0.5 cores requested, 0.25 cores left of its quota of 1 core`);
    expect(await failure(ledger.reserve(peerA, { gpus: 1, durationSeconds: 60 }))).toBeInstanceOf(ConflictError);
    expect(await ledger.status({ requester: PEER_A })).toMatchObject({ capacity: { cores: 1 }, inUse: { cores: 0.75 }, free: { cores: 0.25 } });

    // Offered nothing: refused, and its status says it may hold nothing.
    expect(await failure(ledger.reserve(peerB, { cores: 0.1, durationSeconds: 60 }))).toBeInstanceOf(NotAllowedError);
    expect(await ledger.status({ requester: PEER_B })).toMatchObject({ capacity: { cores: 0, memoryMiB: 0, gpus: 0 }, free: { cores: 0, memoryMiB: 0, gpus: 0 } });
    // This cluster's users, and its own view of the status, still have the whole capacity.
    await ledger.reserve(alice, { cores: 7, durationSeconds: 60 });
    expect(await ledger.status()).toMatchObject({ capacity: { cores: 8 }, inUse: { cores: 7.75 } });
    // A bound is never more than what is free of the whole capacity.
    expect((await ledger.status({ requester: PEER_A })).free.cores).toBe(0.25);
    await ledger.reserve(alice, { cores: 0.25, durationSeconds: 60 });
    expect((await ledger.status({ requester: PEER_A })).free.cores).toBe(0);
  });

  it('rejects bad requests naming every problem, and reserves nothing', async () => {
    const ledger = ledgerWith();
    const cases: [Parameters<typeof ledger.reserve>[1], RegExp][] = [
      [{ cores: -1, durationSeconds: 60 }, /cores: must not be negative/],
      [{ cores: 0.0001, durationSeconds: 60 }, /cores: must be a whole number of thousandths/],
      [{ memoryMiB: 1.5, gpus: -2, durationSeconds: 60 }, /memoryMiB: must be a whole number of MiB; gpus: must not be negative/],
      [{ durationSeconds: 60 }, /a reservation must hold some cores, memory or GPUs/],
      [{ cores: 1, start: at(2 * HOUR), end: at(HOUR) }, /end: must be after start/],
      [{ cores: 1, end: at(-HOUR) }, /end: must be in the future/],
      [{ cores: 1 }, /end: give the end of the window/],
      [{ cores: 1, end: at(HOUR), durationSeconds: 60 }, /durationSeconds: give either end or durationSeconds/],
      [{ cores: 1, durationSeconds: 8 * 24 * 3600 }, /durationSeconds: window too long: at most 7 days/],
      [{ cores: 1, end: at(8 * 24 * HOUR) }, /end: window too long: at most 7 days/],
      [{ cores: 1, start: at(31 * 24 * HOUR), end: at(32 * 24 * HOUR) }, /start: must be at most 30 days from now/],
      [{ cores: 1, start: new Date(Number.NaN), durationSeconds: 60 }, /start: must be a valid time/],
      [{ cores: 1, durationSeconds: 60, requester: 'not a cluster!' }, /requester: must be "local" or a cluster id/],
    ];
    for (const [request, message] of cases) {
      const error = await failure(ledger.reserve(alice, request));
      expect(error, JSON.stringify(request)).toBeInstanceOf(InvalidInputError);
      expect(error.message).toMatch(message);
      expect(error.issues?.length).toBeGreaterThan(0);
    }
    expect(await ledger.list(admin, { state: 'all' })).toEqual([]);
  });

  it('lets only admins reserve for a peer, and peers only for themselves', async () => {
    const ledger = ledgerWith();
    expect(await failure(ledger.reserve(alice, { cores: 1, durationSeconds: 60, requester: PEER_A }))).toBeInstanceOf(NotAllowedError);
    expect(await failure(ledger.reserve(peerA, { cores: 1, durationSeconds: 60, requester: PEER_B }))).toBeInstanceOf(NotAllowedError);
    expect(await failure(ledger.reserve(peerA, { cores: 1, durationSeconds: 60, requester: 'local' }))).toBeInstanceOf(NotAllowedError);
    expect((await ledger.reserve(admin, { cores: 1, durationSeconds: 60, requester: PEER_A })).requester).toBe(PEER_A);
  });

  it('keeps separate ledgers per provider, and follows a capacity that changes', async () => {
    let cores = 4;
    const capacity = { capacity: async () => ({ cores, memoryMiB: 1024, gpus: 0 }) };
    const one = createComputeLedger({ db, capacity, clock, providerId: 'one' });
    const two = createComputeLedger({ db, capacity, clock, providerId: 'two' });
    await one.reserve(alice, { cores: 4, durationSeconds: 60 });
    await two.reserve(alice, { cores: 4, durationSeconds: 60 });
    expect(await failure(one.reserve(alice, { cores: 1, durationSeconds: 60 }))).toBeInstanceOf(ConflictError);
    cores = 6;
    await one.reserve(alice, { cores: 2, durationSeconds: 60 });
    cores = 3; // shrank below what is held: nothing more fits, nothing is taken back
    expect((await one.status()).free.cores).toBe(0);
    expect(await failure(one.reserve(alice, { cores: 0.5, durationSeconds: 60 }))).toBeInstanceOf(ConflictError);
    expect(await one.list(alice)).toHaveLength(2);
  });
});
