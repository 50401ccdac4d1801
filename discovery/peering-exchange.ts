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
import { peeringTransition, policyApproves, type PeerState, type PeeringDecision, type PeeringEvent, type PeeringPolicy } from './peering-state.ts';

/** Largest peering message. */
const MAX_PEERING_BYTES = 16 * 1024;

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
}

export function createPeeringExchange(deps: PeeringExchangeDeps): PeeringExchange {
  const { logger, clock, timing, policy, table, withLock, running } = deps;
  const { peers, stateOf, setPeer, savePeer, view } = table;
  const { deadline } = deps.tasks;
  const seenNonces = new Map<string, number>();

  async function applyPeering(clusterId: string, event: PeeringEvent): Promise<{ send?: PeeringDecision | 'request'; previous: PeerState } | null> {
    return withLock(clusterId, async () => {
      const peer = peers.get(clusterId);
      if (!peer && event.type !== 'block') throw new NotFoundError(`no peer with cluster id ${clusterId}`);
      const previous = peer?.status?.state ?? 'discovered';
      const next = peeringTransition({ state: previous, refusedByUs: peer?.metadata.annotations?.[REFUSED_BY_US] === 'true' }, event);
      if (!next) return null;
      await savePeer(clusterId, { status: { state: next.state }, refusedByUs: next.state === 'refused' ? (next.refusedByUs ?? false) : null });
      if (next.state !== previous) logger.info('peering state changed', { clusterId, from: previous, to: next.state, event: event.type });
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
      const decision = applied.send;
      // The decision stands here; the peer hears it now if reachable, else when it asks again.
      await sendDecision(clusterId, decision, signal).catch((error: unknown) =>
        logger.warn('could not tell the peer about the peering decision', { clusterId, decision, error: describeError(error) }),
      );
    }
    return view(clusterId);
  }

  return { applyPeering, sendRequest, handlePeering, operatorAction };
}
