import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NotAllowedError, type Clock, type ObjectStore } from '../../core/index.ts';
import { signFields, type PeerTransport } from '../../discovery/index.ts';
import { runObjectStoreContract } from '../../platform/object-store/object-store.contract.ts';
import { createDirectoryObjectStore } from '../../platform/object-store/index.ts';
import { createRemoteObjectStore } from './remote-object-store.ts';
import { CHUNK_BYTES, runObjectsProtocol, type RunObjectsRequest } from './run-objects-protocol.ts';
import { ABANDONED_UPLOAD_MS, createRunObjectsResponder, type RunObjectsResponder, type RunObjectsResponderOptions } from './run-objects-responder.ts';

const EXECUTION = 'exec-1';
let origin: string;
let executor: string;
let executorKey: PrivateKey;
let strangerKey: PrivateKey;
const signer = (key: () => PrivateKey) => (domain: string, fields: readonly unknown[]) => signFields(key(), domain, fields);

beforeAll(async () => {
  origin = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
  executorKey = await generateKeyPair('Ed25519');
  executor = peerIdFromPrivateKey(executorKey).toString();
  strangerKey = await generateKeyPair('Ed25519');
});

/** The origin: a directory store and the responder over it; only the executor is peered. */
async function startOrigin(overrides: Partial<RunObjectsResponderOptions> = {}, served = (store: ObjectStore) => store) {
  const root = await mkdtemp(join(tmpdir(), 'archipel-run-objects-'));
  const tempDir = join(root, 'uploads');
  const store = createDirectoryObjectStore({ root: join(root, 'store') });
  const responder = createRunObjectsResponder({
    store: served(store),
    tempDir,
    authorize: async () => {},
    clusterId: () => origin,
    isPeered: (id) => id === executor,
    ...overrides,
  });
  return {
    store,
    responder,
    tempDir,
    held: async () => (await readdir(tempDir).catch(() => [])).filter((name) => name.endsWith('.part')),
    async stop() {
      await responder.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Requests as they would cross the network: JSON both ways, received from `sender`. */
const through =
  (responder: RunObjectsResponder, sender: () => string, seen: RunObjectsRequest[] = []): PeerTransport =>
  async (_id, request, signal) => {
    const sent = JSON.parse(JSON.stringify(request)) as RunObjectsRequest;
    seen.push(sent);
    return JSON.parse(JSON.stringify(await responder.answer(sent, sender(), signal)));
  };

/** The executor's view of the origin's store. */
const remoteStore = (responder: RunObjectsResponder, seen?: RunObjectsRequest[]) =>
  createRemoteObjectStore({
    origin,
    execution: EXECUTION,
    clusterId: () => executor,
    isPeered: (id) => id === origin,
    sign: signer(() => executorKey),
    ask: through(responder, () => executor, seen),
  });

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  for await (const piece of body) pieces.push(piece);
  return Buffer.concat(pieces);
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const info of store.list(prefix)) found.push(info.key);
  return found;
}

let contractOrigin: Awaited<ReturnType<typeof startOrigin>> | undefined;
runObjectStoreContract('remote, over /archipel/run-objects/1.0.0 to a directory store', {
  async create() {
    contractOrigin = await startOrigin();
    return remoteStore(contractOrigin.responder);
  },
  async cleanup() {
    await contractOrigin?.stop();
  },
});

describe("a step on a peered cluster reads and writes its run's objects in the origin's store", () => {
  let site: Awaited<ReturnType<typeof startOrigin>>;
  afterEach(async () => {
    await site.stop();
  });

  describe('within what its execution is allowed', () => {
    // The origin's rule for this execution: its run's objects, and one document it reads.
    const authorize = async (_from: string, execution: string, key: string, access: 'read' | 'write') => {
      const allowed = key.startsWith('runs/r1/') || (access === 'read' && key.startsWith('documents/d1'));
      if (!allowed) throw new NotAllowedError(`execution ${execution} may not ${access} ${JSON.stringify(key)}`);
    };
    beforeEach(async () => {
      site = await startOrigin({ authorize });
      await site.store.put('runs/r2/x', Buffer.from('another run'));
      await site.store.put('documents/d1', Buffer.from('a document'));
    });

    it("refuses a read outside it with the origin's message, as the same kind of error", async () => {
      const remote = remoteStore(site.responder);
      const refusal = { kind: 'not-allowed', message: expect.stringContaining('execution exec-1 may not read "runs/r2/x"') };
      await expect(remote.get('runs/r2/x')).rejects.toMatchObject(refusal);
      await expect(remote.head('runs/r2/x')).rejects.toMatchObject(refusal);
      await expect(keys(remote, 'runs/')).rejects.toMatchObject({ kind: 'not-allowed' });
      expect((await collect((await remote.get('documents/d1')).body)).toString()).toBe('a document');
    });

    it('refuses a write outside it, and nothing reaches the store or is held aside', async () => {
      const remote = remoteStore(site.responder);
      await expect(remote.put('documents/d1', Buffer.alloc(3 * CHUNK_BYTES, 7))).rejects.toMatchObject({
        kind: 'not-allowed',
        message: expect.stringContaining('may not write "documents/d1"'),
      });
      await expect(remote.delete('runs/r2/x')).rejects.toMatchObject({ kind: 'not-allowed' });
      expect((await collect((await site.store.get('documents/d1')).body)).toString()).toBe('a document');
      expect(await keys(site.store, '')).toEqual(['documents/d1', 'runs/r2/x']);
      expect(await site.held()).toEqual([]);

      await remote.put('runs/r1/out.txt', Buffer.from('result'));
      expect(await keys(remote, 'runs/r1/')).toEqual(['runs/r1/out.txt']);
      expect((await collect((await site.store.get('runs/r1/out.txt')).body)).toString()).toBe('result');
    });
  });

  it('moves a 3.5 MiB object byte for byte in 1 MiB chunks each way, reading it on the origin once', async () => {
    let opened = 0;
    site = await startOrigin({}, (store) => ({ ...store, get: (key, options) => ((opened += 1), store.get(key, options)) }));
    const seen: RunObjectsRequest[] = [];
    const remote = remoteStore(site.responder, seen);
    const content = randomBytes(3.5 * CHUNK_BYTES);
    async function* pieces() {
      for (let at = 0; at < content.length; at += 100_003) yield content.subarray(at, at + 100_003);
    }

    const put = await remote.put('runs/r1/big.bin', pieces(), { contentType: 'application/x-big' });
    expect(put).toMatchObject({ key: 'runs/r1/big.bin', size: content.length, contentType: 'application/x-big' });
    const parts = seen.filter((r) => r.op === 'put-part');
    expect(parts.map((r) => [r.seq, Buffer.from(r.data!, 'base64').length])).toEqual([
      [0, CHUNK_BYTES],
      [1, CHUNK_BYTES],
      [2, CHUNK_BYTES],
      [3, CHUNK_BYTES / 2],
    ]);
    expect(new Set(parts.map((r) => r.upload)).size).toBe(1);
    expect(await site.held()).toEqual([]);

    const { info, body } = await remote.get('runs/r1/big.bin');
    expect(info).toMatchObject({ size: content.length, etag: put.etag });
    expect((await collect(body)).equals(content)).toBe(true);
    expect(seen.filter((r) => r.op === 'get').map((r) => r.offset)).toEqual([0, 1, 2, 3].map((i) => i * CHUNK_BYTES));
    expect(opened).toBe(1);
  });

  describe('uploads, part by part', () => {
    let clock: Clock & { advance(ms: number): void };
    beforeEach(async () => {
      let now = Date.now();
      clock = { now: () => new Date(now), advance: (ms) => (now += ms) };
      site = await startOrigin({ clock });
    });
    const part = (upload: string, seq: number, data: string) =>
      runObjectsProtocol.sign(signer(() => executorKey), {
        from: executor,
        to: origin,
        op: 'put-part',
        execution: EXECUTION,
        key: 'runs/r1/parts',
        upload,
        seq,
        data: Buffer.from(data).toString('base64'),
        deadline: clock.now().getTime() + 10_000,
      });

    it('refuses a part that is not the next one', async () => {
      const upload = randomUUID();
      expect(await site.responder.answer(await part(upload, 0, 'first'), executor)).toEqual({ received: 5 });
      expect(await site.responder.answer(await part(upload, 2, 'third'), executor)).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('part 1 is next') } });
      expect(await site.responder.answer(await part(randomUUID(), 1, 'orphan'), executor)).toMatchObject({ error: { code: 'conflict' } });
      expect(await site.responder.answer(await part(upload, 1, 'second'), executor)).toEqual({ received: 11 });
    });

    it('removes an upload abandoned for ten minutes', async () => {
      const upload = randomUUID();
      await site.responder.answer(await part(upload, 0, 'never finished'), executor);
      expect(await site.held()).toHaveLength(1);
      clock.advance(ABANDONED_UPLOAD_MS - 1000);
      await site.responder.sweep();
      expect(await site.held()).toHaveLength(1);
      clock.advance(1000);
      await site.responder.sweep();
      expect(await site.held()).toEqual([]);
      expect(await site.responder.answer(await part(upload, 1, 'late'), executor)).toMatchObject({ error: { code: 'conflict' } });
    });
  });

  it('refuses a cluster that is not peered with the origin', async () => {
    site = await startOrigin();
    const stranger = peerIdFromPrivateKey(strangerKey).toString();
    const remote = createRemoteObjectStore({
      origin,
      execution: EXECUTION,
      clusterId: () => stranger,
      isPeered: () => true,
      sign: signer(() => strangerKey),
      ask: through(site.responder, () => stranger),
    });
    await expect(remote.put('runs/r1/x', Buffer.from('x'))).rejects.toMatchObject({ kind: 'not-allowed', message: expect.stringContaining('not peered') });
    await expect(remote.head('runs/r1/x')).rejects.toMatchObject({ kind: 'not-allowed' });
    expect(await keys(site.store, '')).toEqual([]);
    expect(await site.held()).toEqual([]);
  });
});

describe('an origin that is briefly unavailable (a restart)', () => {
  it('is asked again for reads, lists and deletes, not for parts of an upload', async () => {
    const site = await startOrigin();
    try {
      await site.store.put('runs/r1/x', Buffer.from('kept'));
      let down = 0;
      const flaky: PeerTransport = async (id, request, signal) => {
        if (down > 0) {
          down--;
          throw new Error('connection refused');
        }
        return through(site.responder, () => executor)(id, request, signal);
      };
      const store = (retryUnavailableMs?: number) =>
        createRemoteObjectStore({ origin, execution: EXECUTION, clusterId: () => executor, isPeered: (id) => id === origin, sign: signer(() => executorKey), ask: flaky, ...(retryUnavailableMs !== undefined ? { retryUnavailableMs } : {}) });
      down = 2;
      expect((await store().head('runs/r1/x')).size).toBe(4);
      down = 2;
      expect(await keys(store(), 'runs/r1/')).toEqual(['runs/r1/x']);
      down = 1;
      await expect(store(0).head('runs/r1/x')).rejects.toMatchObject({ kind: 'unavailable' });
      down = 1;
      await expect(store().put('runs/r1/y', Buffer.from('new'))).rejects.toMatchObject({ kind: 'unavailable' });
      expect(await keys(site.store, 'runs/r1/')).toEqual(['runs/r1/x']);
    } finally {
      await site.stop();
    }
  });
});
