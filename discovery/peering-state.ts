import { ConflictError, type PeerStatus, type SwarmSpec } from '../core/index.ts';

/**
 * Peering by consent, as a pure state machine over a peer's state as this cluster sees it:
 *
 * - `discovered`: a member of the swarm, nothing asked;
 * - `requested`: we asked it to peer and wait for its answer;
 * - `pending-approval`: it asked us and waits for our operator (or policy);
 * - `peered`: both consented; application protocols are open between the two;
 * - `refused`: one side said no (either side may ask again later);
 * - `blocked`: our operator blocked it: its connections are refused until unblocked.
 *
 * Each event gives the next state and what to tell the other side, or `null` when the event does not
 * apply (an answer nobody asked for, ...): the caller drops it. Operator actions that make no sense in
 * the current state are a `ConflictError`. A refusal by our operator sticks: the peer's repeated
 * requests are refused until our operator asks it to peer; a refusal by the peer does not stop it
 * from asking us later. Blocking a cluster that is peered, asking or asked tells it `refused` (as far
 * as it can still be told: its connection is closed right after), so that it stops counting on us.
 *
 * A transition away from `peered`, and every block, *ends the peering*: whatever the peer holds here
 * (compute reservations, access grants, steps run for its runs) ends with it.
 */
export type PeerState = NonNullable<PeerStatus['state']>;
export type PeeringDecision = 'approved' | 'refused' | 'pending';
export type PeeringPolicy = NonNullable<SwarmSpec['peeringPolicy']>;
/** Why a peering ended: our operator blocked the peer, or one side refused (ending a peering). */
export type PeeringEndReason = 'blocked' | 'refused-by-us' | 'refused-by-peer';

export type PeeringEvent =
  /** Our operator asks the peer to peer. */
  | { type: 'request' }
  /** The peer asks us; `autoApprove` is the policy's verdict for it. */
  | { type: 'request-received'; autoApprove: boolean }
  /** Our operator's answer to a pending request. */
  | { type: 'approve' }
  | { type: 'refuse' }
  /** The peer's answer to our request (or its later change of mind). */
  | { type: 'answer-received'; decision: PeeringDecision }
  | { type: 'block' }
  | { type: 'unblock' };

export interface PeeringSide {
  state: PeerState;
  /** In `refused`: whether our operator refused (rather than the peer). */
  refusedByUs?: boolean;
}

export interface PeeringTransition extends PeeringSide {
  /**
   * A decision to send the peer: as the reply to its request (`request-received`) or as a message of
   * its own (`approve`, `refuse`, `block`, and `request` when it had asked us first). `request` means:
   * send our request.
   */
  send?: PeeringDecision | 'request';
  /**
   * Set when the event ends the peering (from `peered` to another state, and on every block, whatever
   * the state: a block must leave the peer holding nothing here).
   */
  ends?: PeeringEndReason;
}

/** The states in which the peer counts on an answer from us, or on the peering itself. */
const EXPECTING = new Set<PeerState>(['peered', 'requested', 'pending-approval']);

export function peeringTransition(current: PeeringSide, event: PeeringEvent): PeeringTransition | null {
  const { state } = current;
  switch (event.type) {
    case 'request':
      switch (state) {
        case 'blocked':
          throw new ConflictError('this cluster is blocked: unblock it before asking it to peer');
        case 'pending-approval':
          // It asked first: asking back is consenting.
          return { state: 'peered', send: 'approved' };
        case 'peered':
          return { state: 'peered' };
        default:
          return { state: 'requested', send: 'request' };
      }
    case 'request-received':
      switch (state) {
        case 'blocked':
          return { state, send: 'refused' };
        case 'requested':
        case 'peered':
          // Both sides want it (or already have it).
          return { state: 'peered', send: 'approved' };
        case 'refused':
          if (current.refusedByUs) return { state, refusedByUs: true, send: 'refused' };
          break;
        case 'pending-approval':
        case 'discovered':
          break;
      }
      return event.autoApprove ? { state: 'peered', send: 'approved' } : { state: 'pending-approval', send: 'pending' };
    case 'approve':
      if (state === 'peered') return { state };
      if (state !== 'pending-approval') throw new ConflictError(`nothing to approve: the peer is ${state}`);
      return { state: 'peered', send: 'approved' };
    case 'refuse':
      if (state === 'refused' && current.refusedByUs) return { state, refusedByUs: true };
      if (state !== 'pending-approval' && state !== 'peered' && state !== 'refused') {
        throw new ConflictError(`nothing to refuse: the peer is ${state}`);
      }
      return { state: 'refused', refusedByUs: true, send: 'refused', ...(state === 'peered' ? { ends: 'refused-by-us' as const } : {}) };
    case 'answer-received':
      if (event.decision === 'approved') return state === 'requested' || state === 'peered' ? { state: 'peered' } : null;
      if (event.decision === 'refused') {
        if (state === 'peered') return { state: 'refused', refusedByUs: false, ends: 'refused-by-peer' };
        return state === 'requested' || state === 'pending-approval' ? { state: 'refused', refusedByUs: false } : null;
      }
      return state === 'requested' ? { state } : null;
    case 'block':
      return { state: 'blocked', ends: 'blocked', ...(EXPECTING.has(state) ? { send: 'refused' as const } : {}) };
    case 'unblock':
      return state === 'blocked' ? { state: 'discovered' } : { ...current };
  }
}

/** Whether the policy approves a request from this cluster without the operator. */
export function policyApproves(policy: PeeringPolicy, clusterId: string): boolean {
  if (policy.mode === 'auto') return true;
  if (policy.mode === 'allowList') return policy.allowedClusterIds?.includes(clusterId) ?? false;
  return false;
}
