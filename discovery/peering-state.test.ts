import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { ConflictError, type Clock } from '../core/index.ts';
import { createBlockingGater } from './connection-gater.ts';
import { createPeeringMessage, verifyPeeringMessage } from './peering-messages.ts';
import { peeringTransition, policyApproves, type PeerState, type PeeringEvent } from './peering-state.ts';

const at = (state: PeerState, refusedByUs?: boolean) => ({ state, ...(refusedByUs === undefined ? {} : { refusedByUs }) });
const request: PeeringEvent = { type: 'request' };
const received = (autoApprove = false): PeeringEvent => ({ type: 'request-received', autoApprove });
const answer = (decision: 'approved' | 'refused' | 'pending'): PeeringEvent => ({ type: 'answer-received', decision });

describe('peering state machine', () => {
  it('walks a manual request to peered on both sides', () => {
    // Requester: discovered -> requested (sends the request).
    expect(peeringTransition(at('discovered'), request)).toEqual({ state: 'requested', send: 'request' });
    // Receiver: discovered -> pending-approval, answers "pending".
    expect(peeringTransition(at('discovered'), received())).toEqual({ state: 'pending-approval', send: 'pending' });
    expect(peeringTransition(at('requested'), answer('pending'))).toEqual({ state: 'requested' });
    // Receiver's operator approves and tells the requester.
    expect(peeringTransition(at('pending-approval'), { type: 'approve' })).toEqual({ state: 'peered', send: 'approved' });
    expect(peeringTransition(at('requested'), answer('approved'))).toEqual({ state: 'peered' });
  });

  it('approves at once when the policy says so, or when both sides asked', () => {
    expect(peeringTransition(at('discovered'), received(true))).toEqual({ state: 'peered', send: 'approved' });
    expect(peeringTransition(at('requested'), received(false))).toEqual({ state: 'peered', send: 'approved' });
    expect(peeringTransition(at('pending-approval'), request)).toEqual({ state: 'peered', send: 'approved' });
    expect(peeringTransition(at('peered'), received(false))).toEqual({ state: 'peered', send: 'approved' });
  });

  it('keeps our refusal until our operator asks again; the peer’s refusal does not stop it asking us', () => {
    const refused = peeringTransition(at('pending-approval'), { type: 'refuse' });
    expect(refused).toEqual({ state: 'refused', refusedByUs: true, send: 'refused' });
    expect(peeringTransition(at('refused', true), received(true))).toEqual({ state: 'refused', refusedByUs: true, send: 'refused' });
    expect(peeringTransition(at('refused', true), request)).toEqual({ state: 'requested', send: 'request' });
    expect(peeringTransition(at('requested'), answer('refused'))).toEqual({ state: 'refused', refusedByUs: false });
    expect(peeringTransition(at('refused', false), received())).toEqual({ state: 'pending-approval', send: 'pending' });
    // Refusing a peered cluster ends the peering on both sides.
    expect(peeringTransition(at('peered'), { type: 'refuse' })).toEqual({ state: 'refused', refusedByUs: true, send: 'refused', ends: 'refused-by-us' });
    expect(peeringTransition(at('peered'), answer('refused'))).toEqual({ state: 'refused', refusedByUs: false, ends: 'refused-by-peer' });
  });

  it('ends the peering once, when it leaves peered, and on every block', () => {
    // A refusal before any peering ends nothing: nothing was held.
    expect(peeringTransition(at('pending-approval'), { type: 'refuse' })?.ends).toBeUndefined();
    expect(peeringTransition(at('requested'), answer('refused'))?.ends).toBeUndefined();
    // Staying peered ends nothing either.
    for (const event of [request, received(), { type: 'approve' } as const, answer('approved'), { type: 'unblock' } as const]) {
      expect(peeringTransition(at('peered'), event)?.ends).toBeUndefined();
    }
    // A block ends whatever the peer holds here, whatever its state (blocking again repeats it).
    for (const state of ['discovered', 'requested', 'pending-approval', 'peered', 'refused', 'blocked'] as const) {
      expect(peeringTransition(at(state), { type: 'block' })?.ends).toBe('blocked');
    }
  });

  it('tells a blocked peer that counted on us "refused"; nobody else', () => {
    // Peered, asked by us, or asking us: it would go on showing us as peered (or waiting) otherwise.
    for (const state of ['peered', 'requested', 'pending-approval'] as const) {
      expect(peeringTransition(at(state), { type: 'block' })).toEqual({ state: 'blocked', send: 'refused', ends: 'blocked' });
    }
    // Nothing asked, or already refused (by either side), or blocked: nothing to tell.
    for (const side of [at('discovered'), at('refused', true), at('refused', false), at('blocked')]) {
      expect(peeringTransition(side, { type: 'block' })).toEqual({ state: 'blocked', ends: 'blocked' });
    }
    // What it is told moves it to refused, as any refusal does.
    for (const state of ['peered', 'requested', 'pending-approval'] as const) {
      expect(peeringTransition(at(state), answer('refused'))).toMatchObject({ state: 'refused', refusedByUs: false });
    }
  });

  it('ignores answers nobody asked for', () => {
    expect(peeringTransition(at('discovered'), answer('approved'))).toBeNull();
    expect(peeringTransition(at('refused', true), answer('approved'))).toBeNull();
    expect(peeringTransition(at('blocked'), answer('approved'))).toBeNull();
    expect(peeringTransition(at('pending-approval'), answer('approved'))).toBeNull();
    expect(peeringTransition(at('peered'), answer('pending'))).toBeNull();
  });

  it('rejects operator actions that do not apply, and refuses everything from a blocked peer', () => {
    expect(() => peeringTransition(at('discovered'), { type: 'approve' })).toThrow(ConflictError);
    expect(() => peeringTransition(at('requested'), { type: 'approve' })).toThrow(ConflictError);
    expect(() => peeringTransition(at('discovered'), { type: 'refuse' })).toThrow(ConflictError);
    expect(() => peeringTransition(at('blocked'), request)).toThrow(ConflictError);
    expect(peeringTransition(at('blocked'), received(true))).toEqual({ state: 'blocked', send: 'refused' });
    for (const state of ['discovered', 'requested', 'pending-approval', 'peered', 'refused'] as const) {
      expect(peeringTransition(at(state), { type: 'block' })).toMatchObject({ state: 'blocked' });
    }
    expect(peeringTransition(at('blocked'), { type: 'unblock' })).toEqual({ state: 'discovered' });
    expect(peeringTransition(at('peered'), { type: 'unblock' })).toEqual({ state: 'peered' });
  });

  it('applies the policy: manual never, auto always, allowList for the listed clusters', () => {
    expect(policyApproves({ mode: 'manual' }, 'QmA')).toBe(false);
    expect(policyApproves({ mode: 'auto' }, 'QmA')).toBe(true);
    expect(policyApproves({ mode: 'allowList', allowedClusterIds: ['QmA'] }, 'QmA')).toBe(true);
    expect(policyApproves({ mode: 'allowList', allowedClusterIds: ['QmA'] }, 'QmB')).toBe(false);
    expect(policyApproves({ mode: 'allowList' }, 'QmA')).toBe(false);
  });
});

describe('signed peering messages', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const clock: Clock = { now: () => now };

  it('accept a request signed by the connected peer and meant for us, once', async () => {
    const key = await generateKeyPair('Ed25519');
    const from = peerIdFromPrivateKey(key).toString();
    const to = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    const message = await createPeeringMessage(key, clock, { type: 'request', from, to });
    const seenNonces = new Map<string, number>();
    expect(await verifyPeeringMessage(message, { clock, from, to, seenNonces })).toEqual({ ok: true, message });
    expect(await verifyPeeringMessage(message, { clock, from, to, seenNonces })).toEqual({ ok: false, reason: 'replayed' });

    const fresh = () => new Map<string, number>();
    expect(await verifyPeeringMessage(message, { clock, from: to, to, seenNonces: fresh() })).toMatchObject({ ok: false, reason: 'sender is not the connected peer' });
    expect(await verifyPeeringMessage(message, { clock, from, to: from, seenNonces: fresh() })).toMatchObject({ ok: false, reason: 'meant for another cluster' });
    expect(await verifyPeeringMessage({ ...message, type: 'decision', decision: 'approved' }, { clock, from, to, seenNonces: fresh() })).toMatchObject({ ok: false, reason: 'bad signature' });
    const late: Clock = { now: () => new Date(now.getTime() + 6 * 60_000) };
    expect(await verifyPeeringMessage(message, { clock: late, from, to, seenNonces: fresh() })).toMatchObject({ ok: false, reason: 'too old or from the future' });

    const decision = await createPeeringMessage(key, clock, { type: 'decision', from, to, decision: 'refused' });
    expect(await verifyPeeringMessage({ ...decision, decision: 'approved' }, { clock, from, to, seenNonces: fresh() })).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(await verifyPeeringMessage(decision, { clock, from, to, seenNonces: fresh() })).toMatchObject({ ok: true });
  });
});

describe('blocking connection gater', () => {
  it('denies dials and connections of blocked clusters at every stage, and nobody else', async () => {
    const blocked = new Set<string>();
    const gater = createBlockingGater((id) => blocked.has(id));
    const peer: PeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
    const connection = {} as never;
    const checks = () => [
      gater.denyDialPeer!(peer),
      gater.denyInboundEncryptedConnection!(peer, connection),
      gater.denyOutboundEncryptedConnection!(peer, connection),
      gater.denyInboundUpgradedConnection!(peer, connection),
      gater.denyOutboundUpgradedConnection!(peer, connection),
    ];
    expect(checks()).toEqual([false, false, false, false, false]);
    blocked.add(peer.toString());
    expect(checks()).toEqual([true, true, true, true, true]);
  });
});
