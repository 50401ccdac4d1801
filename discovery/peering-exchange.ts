import type { PrivateKey, StreamHandler } from '@libp2p/interface';
import { InvalidInputError, NotFoundError, UnavailableError, describeError, isArchipelError, type Clock, type Logger } from '../core/index.ts';
import type { BackgroundTasks } from './background-tasks.ts';
import type { DiscoveryTiming } from './discovery-timing.ts';
import { exchangeJson, serveJson } from './json-protocol.ts';
import type { KeyedLock } from './keyed-lock.ts';
import type { FederationLibp2p } from './libp2p-node.ts';
import { parseClusterId } from './peer-names.ts';
import { REFUSED_BY_US, type PeerTable, type PeerView } from './peer-table.ts';
import { createPeeringMessage, PEERING_PROTOCOL, verifyPeeringMessage } from './peering-messages.ts';
import {
  peeringTransition,
  policyApproves,
  type PeerState,
  type PeeringDecision,
  type PeeringEndReason,
  type PeeringEvent,
  type PeeringPolicy,
} from './peering-state.ts';

/** Largest peering message. */
const MAX_PEERING_BYTES = 16 * 1024;
/**
 * How long a block waits to tell the peer before its connection is closed: a peer that does not answer
 * at once is not kept connected for the full request deadline.
 */
const BLOCK_NOTICE_MS = 2_000;

/**
 * Called once each time a peering ends (see `PeeringTransition.ends`): ends what the peer holds here.
 * Runs in the agent's background tasks, after the new state is stored; `signal` fires when the agent stops.
 */
export type PeeringEndedHandler = (clusterId: string, reason: PeeringEndReason, signal: AbortSignal) => Promise<void>;

export interface PeeringExchangeDeps {
  logger: Logger;
  clock: Clock;
  timing: DiscoveryTiming;
  policy: PeeringPolicy;
  table: PeerTable;
  tasks: BackgroundTasks;
  /** The per-peer lock under which a peer's record or peering state changes. */
  withLock: KeyedLock;
  /** The libp2p node, or `UnavailableError` when the agent is not running. */
  running(): FederationLibp2p;
  selfId(): string;
  privateKey(): PrivateKey;
  onPeeringEnded?: PeeringEndedHandler;
}

/** Peering by consent: the state of each peer, and the signed messages on `/archipel/peering/1.0.0`. */
export interface PeeringExchange {
  /** Applies a peering event under the peer's lock; returns what to send (if anything). */
  applyPeering(clusterId: string, event: PeeringEvent): Promise<{ send?: PeeringDecision | 'request'; previous: PeerState } | null>;
  /** Sends our request; the signed decision in the reply moves our state on. */
  sendRequest(clusterId: string, signal?: AbortSignal): Promise<void>;
  handlePeering: StreamHandler;
  /** An operator's request, approval or refusal, told to the peer. */
  operatorAction(clusterId: string, event: PeeringEvent, signal?: AbortSignal): Promise<PeerView>;
  /**
   * Blocks the cluster (known or not) and, if it was peered, asking or asked, tells it `refused` over the
   * connection still open, best effort and briefly: the caller closes the connection next, and the
   * gater refuses any new one (a failure to tell is logged).
   */
  block(clusterId: string, signal?: AbortSignal): Promise<void>;
}

export function createPeeringExchange(deps: PeeringExchangeDeps): PeeringExchange {
  const { logger, clock, timing, policy, table, withLock, running } = deps;
  const { peers, stateOf, setPeer, savePeer, view } = table;
  const { deadline } = deps.tasks;
  const seenNonces = new Map<string, number>();

  function peeringEnded(clusterId: string, reason: PeeringEndReason): void {
    const handler = deps.onPeeringEnded;
    logger.info('peering ended', { clusterId, reason });
    if (!handler) return;
    deps.tasks.background('ending what a peer held', async () => {
      try {
        await handler(clusterId, reason, deps.tasks.signal);
      } catch (error) {
        logger.warn('could not end all that the peer held here', { clusterId, reason, error: describeError(error) });
      }
    });
  }

  async function applyPeering(clusterId: string, event: PeeringEvent): Promise<{ send?: PeeringDecision | 'request'; previous: PeerState } | null> {
    return withLock(clusterId, async () => {
      const peer = peers.get(clusterId);
      // The operator acts on the peers the API lists; the peer's own messages (it spoke to us) and a block
      // (of a cluster not met yet, too) need no listing.
      const operator = event.type === 'request' || event.type === 'approve' || event.type === 'refuse' || event.type === 'unblock';
      if ((!peer && event.type !== 'block') || (operator && !table.isListed(clusterId))) throw new NotFoundError(`no peer with cluster id ${clusterId}`);
      const previous = peer?.status?.state ?? 'discovered';
      const next = peeringTransition({ state: previous, refusedByUs: peer?.metadata.annotations?.[REFUSED_BY_US] === 'true' }, event);
      if (!next) return null;
      await savePeer(clusterId, { status: { state: next.state }, refusedByUs: next.state === 'refused' ? (next.refusedByUs ?? false) : null });
      if (next.state !== previous) logger.info('peering state changed', { clusterId, from: previous, to: next.state, event: event.type });
      if (next.ends) peeringEnded(clusterId, next.ends);
      return { ...(next.send ? { send: next.send } : {}), previous };
    });
  }

  async function sendPeering(clusterId: string, message: Awaited<ReturnType<typeof createPeeringMessage>>, signal?: AbortSignal): Promise<unknown> {
    const libp2p = running();
    const limit = deadline(timing.requestTimeoutMs, signal);
    try {
      const stream = await libp2p.dialProtocol(parseClusterId(clusterId), PEERING_PROTOCOL, { signal: limit });
      return await exchangeJson(stream, message, { maxBytes: MAX_PEERING_BYTES, signal: limit });
    } catch (error) {
      if (isArchipelError(error)) throw error;
      throw new UnavailableError(`cannot reach cluster ${clusterId}: ${describeError(error)}`, { cause: error });
    }
  }

  async function sendDecision(clusterId: string, decision: PeeringDecision, signal?: AbortSignal): Promise<void> {
    const message = await createPeeringMessage(deps.privateKey(), clock, { type: 'decision', from: deps.selfId(), to: clusterId, decision });
    await sendPeering(clusterId, message, signal);
  }

  /** Sends our decision; one that does not arrive stands here all the same, and is logged. */
  async function tellDecision(clusterId: string, decision: PeeringDecision, signal?: AbortSignal): Promise<void> {
    await sendDecision(clusterId, decision, signal).catch((error: unknown) =>
      logger.warn('could not tell the peer about the peering decision', { clusterId, decision, error: describeError(error) }),
    );
  }

  async function sendRequest(clusterId: string, signal?: AbortSignal): Promise<void> {
    const selfId = deps.selfId();
    const message = await createPeeringMessage(deps.privateKey(), clock, { type: 'request', from: selfId, to: clusterId });
    const reply = await sendPeering(clusterId, message, signal);
    const verdict = await verifyPeeringMessage(reply, { clock, from: clusterId, to: selfId, seenNonces });
    if (!verdict.ok || verdict.message.type !== 'decision' || !verdict.message.decision) {
      throw new UnavailableError(`cluster ${clusterId} sent an invalid answer to the peering request${verdict.ok ? '' : ` (${verdict.reason})`}`);
    }
    await applyPeering(clusterId, { type: 'answer-received', decision: verdict.message.decision });
  }

  const handlePeering: StreamHandler = async (stream, connection) => {
    const from = connection.remotePeer.toString();
    try {
      await serveJson(
        stream,
        async (input) => {
          const verdict = await verifyPeeringMessage(input, { clock, from, to: deps.selfId(), seenNonces });
          if (!verdict.ok) {
            logger.debug('peering message dropped', { clusterId: from, reason: verdict.reason });
            throw new InvalidInputError(`peering message rejected: ${verdict.reason}`);
          }
          const message = verdict.message;
          if (message.type === 'decision') {
            const applied = await applyPeering(from, { type: 'answer-received', decision: message.decision! });
            if (!applied) logger.debug('peering decision ignored', { clusterId: from, decision: message.decision });
            return { received: true };
          }
          if (!peers.has(from)) setPeer(from, {});
          const applied = await applyPeering(from, { type: 'request-received', autoApprove: policyApproves(policy, from) });
          const decision = (applied?.send ?? 'refused') as PeeringDecision;
          return createPeeringMessage(deps.privateKey(), clock, { type: 'decision', from: deps.selfId(), to: from, decision });
        },
        { maxBytes: MAX_PEERING_BYTES, signal: deadline(timing.requestTimeoutMs) },
      );
    } catch (error) {
      logger.debug('peering exchange from peer failed', { clusterId: from, error: describeError(error) });
    }
  };

  async function operatorAction(clusterId: string, event: PeeringEvent, signal?: AbortSignal): Promise<PeerView> {
    parseClusterId(clusterId);
    const applied = await applyPeering(clusterId, event);
    if (applied?.send === 'request') {
      try {
        await sendRequest(clusterId, signal);
      } catch (error) {
        // Not delivered: back to where we were, unless an answer came meanwhile.
        await withLock(clusterId, async () => {
          if (stateOf(clusterId) === 'requested') await savePeer(clusterId, { status: { state: applied.previous } });
        });
        throw error;
      }
    } else if (applied?.send) {
      // The decision stands here; the peer hears it now if reachable, else when it asks again.
      await tellDecision(clusterId, applied.send, signal);
    }
    return view(clusterId);
  }

  async function block(clusterId: string, signal?: AbortSignal): Promise<void> {
    const applied = await applyPeering(clusterId, { type: 'block' });
    // Over the open connection, if any: the gater already refuses a new one. A peer that cannot be told
    // now shows us as it last knew us until it is unblocked (its requests are refused at the gater).
    if (!applied?.send || applied.send === 'request') return;
    await tellDecision(clusterId, applied.send, AbortSignal.any([AbortSignal.timeout(BLOCK_NOTICE_MS), ...(signal ? [signal] : [])]));
  }

  return { applyPeering, sendRequest, handlePeering, operatorAction, block };
}
