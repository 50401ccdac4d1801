import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConflictError, InternalError, type Clock } from '../core/index.ts';
import { definePeerProtocol, type PeerTransport } from './peer-protocol.ts';
import { signFields } from './signing.ts';

const NOW = new Date('2026-12-02T10:00:00Z');
const clock: Clock = { now: () => new Date(NOW) };

const EchoRequestSchema = z.strictObject({
  from: z.string(),
  to: z.string(),
  word: z.string().max(20),
  user: z.string(),
  deadline: z.number().int(),
  signature: z.string(),
});
type EchoRequest = z.infer<typeof EchoRequestSchema>;

const echo = definePeerProtocol<EchoRequest>({
  id: '/archipel/echo-test/1.0.0',
  domain: 'archipel-echo-test/1',
  name: 'echo request',
  schema: EchoRequestSchema,
  fields: (r) => [r.from, r.to, r.word, r.user, r.deadline],
  valid: (r) => r.word !== 'forbidden',
  maxBytes: 4096,
  maxTimeoutMs: 2000,
  defaultTimeoutMs: 1000,
});
const ReplySchema = z.strictObject({ said: z.string() });

describe('one peer protocol for every request between clusters', () => {
  let requesterKey: PrivateKey;
  let requester: string;
  let owner: string;
  const sign = (domain: string, fields: readonly unknown[]) => signFields(requesterKey, domain, fields);

  beforeAll(async () => {
    requesterKey = await generateKeyPair('Ed25519');
    requester = peerIdFromPrivateKey(requesterKey).toString();
    owner = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
  });

  /** The owner's responder: it echoes, or fails as the word asks. */
  const ownerAnswer = (peered = true) =>
    echo.responder({ clusterId: () => owner, isPeered: () => peered, passedOn: new Set(['conflict']), clock }, async (request) => {
      if (request.word === 'busy') throw new ConflictError('no room for that');
      if (request.word === 'crash') throw new InternalError('disk on fire at /var/secret');
      return { said: `${request.word}, ${request.user}` };
    });
  const through =
    (answer: ReturnType<typeof ownerAnswer>): PeerTransport =>
    async (_id, request) =>
      JSON.parse(JSON.stringify(await answer(JSON.parse(JSON.stringify(request)), requester)));
  const ask = (transport: PeerTransport, peered = true, timeoutMs?: number) =>
    echo.requester({ clusterId: () => requester, isPeered: () => peered, sign, ask: transport, clock, ...(timeoutMs ? { timeoutMs } : {}) }, ReplySchema);

  it('answers a signed request from a peered cluster with what the handler returns', async () => {
    expect(await ask(through(ownerAnswer()))(owner, { word: 'hello', user: 'rita' })).toEqual({ said: 'hello, rita' });
  });

  it("passes on the refusals the protocol names with the owner's message, and nothing else of a failure", async () => {
    await expect(ask(through(ownerAnswer()))(owner, { word: 'busy', user: 'rita' })).rejects.toMatchObject({ kind: 'conflict', message: 'no room for that' });
    const crash = ask(through(ownerAnswer()))(owner, { word: 'crash', user: 'rita' });
    await expect(crash).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(crash).rejects.not.toMatchObject({ message: expect.stringContaining('/var/secret') });
  });

  it('refuses before the handler runs: an unpeered sender, a changed or foreign-domain signature, a malformed or stale request', async () => {
    let ran = 0;
    const answer = echo.responder({ clusterId: () => owner, isPeered: () => true, passedOn: new Set(), clock }, async () => {
      ran += 1;
      return { said: 'ran' };
    });
    const signed = await echo.sign(sign, { from: requester, to: owner, word: 'hi', user: 'rita', deadline: NOW.getTime() + 1000 });
    const crossDomain = { ...signed, signature: await signFields(requesterKey, 'archipel-other/1', [signed.from, signed.to, signed.word, signed.user, signed.deadline]) };
    const refused = [
      await ownerAnswer(false)(signed, requester),
      await answer({ ...signed, user: 'admin' }, requester),
      await answer(crossDomain, requester),
      await answer({ ...signed, word: 'x'.repeat(21) }, requester),
      await answer(await echo.sign(sign, { ...signed, word: 'forbidden' }), requester),
      await answer(await echo.sign(sign, { ...signed, deadline: NOW.getTime() - 60_000 }), requester),
      await answer(await echo.sign(sign, { ...signed, deadline: NOW.getTime() + 60_000 }), requester),
      await answer(signed, owner),
    ];
    expect(refused.map((r) => ('error' in r ? r.error.code : 'answered'))).toEqual(['not-allowed', ...Array(7).fill('invalid-input')]);
    expect(ran).toBe(0);
    expect(await answer(signed, requester)).toEqual({ said: 'ran' });
  });

  it('sends nothing to a cluster that is not peered, and gives up on one that does not answer or answers nonsense', async () => {
    let sent = 0;
    const counting: PeerTransport = async () => {
      sent += 1;
      return { said: 'x' };
    };
    await expect(ask(counting, false)(owner, { word: 'hi', user: 'rita' })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(ask(counting)(requester, { word: 'hi', user: 'rita' })).rejects.toMatchObject({ kind: 'not-found' });
    expect(sent).toBe(0);
    const silent: PeerTransport = (_id, _request, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const started = Date.now();
    await expect(ask(silent, true, 100)(owner, { word: 'hi', user: 'rita' })).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('100 ms') });
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(ask(async () => ({ said: 42 }))(owner, { word: 'hi', user: 'rita' })).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('does not answer its echo request') });
  });
});
