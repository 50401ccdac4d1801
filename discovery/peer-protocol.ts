import { z } from 'zod';
import { NotFoundError, UnavailableError, describeError, isArchipelError, silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import type { DiscoveryAgent } from './discovery-agent.ts';
import { exchangeJson, serveJson } from './json-protocol.ts';
import { askPeer, peerRefusal } from './peer-exchange.ts';
import { refuseSignedRequest, type SignedRequestEnvelope } from './signed-request.ts';

/** Signs fields in a domain with this cluster's key (the discovery agent's `sign`). */
export type Signer = (domain: string, fields: readonly unknown[]) => Promise<string>;

/** A refusal as it travels: the code is an error kind of the taxonomy (`conflict`, `not-found`, ...). */
export interface PeerRefusal {
  error: { code: string; message: string };
}
const PeerRefusalSchema = z.strictObject({ error: z.strictObject({ code: z.string().max(64), message: z.string().max(2000) }) });

/** What the protocols need of the discovery agent: peering, peered-only streams, the cluster key. */
export type PeerNetwork = Pick<DiscoveryAgent, 'clusterId' | 'isPeered' | 'handlePeered' | 'openPeeredStream' | 'sign'>;

/** Sends one request to a peered cluster and returns its reply, unchecked (the network's, or a test's). */
export type PeerTransport = (clusterId: string, request: unknown, signal: AbortSignal) => Promise<unknown>;

/** A request without what the requester's side adds: who sends it to whom, until when, signed. */
export type RequestBody<R extends SignedRequestEnvelope> = Omit<R, 'from' | 'to' | 'deadline' | 'signature'>;

export interface PeerProtocolSpec<R extends SignedRequestEnvelope> {
  /** The libp2p protocol id, `/archipel/<name>/1.0.0`. */
  id: string;
  /** The signature domain: a request's signature can pass as nothing else. */
  domain: string;
  /** What a request is called in messages and logs (`compute request`). */
  name: string;
  schema: z.ZodType<R>;
  /** The signed fields of a request, in their order. */
  fields(request: Omit<R, 'signature'>): readonly unknown[];
  /** Checks beyond the schema; false: the request is malformed. */
  valid?(request: R): boolean;
  /** Largest message either way, in bytes. */
  maxBytes: number;
  /** Longest a requester may wait (a deadline further ahead is refused), and how long it waits by default. */
  maxTimeoutMs: number;
  defaultTimeoutMs: number;
}

/** How far a requester's clock may be from ours when we judge a request's deadline. */
export const DEFAULT_MAX_SKEW_MS = 10_000;

export type RequestVerdict<R> = { ok: true; request: R } | { ok: false; reason: string };

export interface ResponderOptions {
  /** This cluster's id, and whether a cluster is peered with it now. */
  clusterId(): string;
  isPeered(clusterId: string): boolean;
  /** The error kinds a refusal passes on as they are, with their message; anything else is `unavailable`. */
  passedOn: ReadonlySet<string>;
  clock?: Clock;
  logger?: Logger;
  maxSkewMs?: number;
}

export interface RequesterOptions {
  clusterId(): string;
  isPeered(clusterId: string): boolean;
  sign: Signer;
  ask: PeerTransport;
  /** How long to wait for the peer (default: the protocol's). */
  timeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** A signed request's top-level fields without those left undefined, and with its arrays copied. */
function plain<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as T;
}

/**
 * One request/answer protocol between peered clusters, in one place for every Archipel protocol: a
 * request signed by the requesting cluster's key (who sends it to whom, for which user, until when), one
 * length-prefixed JSON message each way, the owner's checks (peered, signed by the connected cluster,
 * meant for this one, fresh) before anything is done, its work bounded by the requester's deadline, and
 * its refusals typed so that they reach the requester as errors of the same kind.
 */
export function definePeerProtocol<R extends SignedRequestEnvelope>(spec: PeerProtocolSpec<R>) {
  async function sign(signer: Signer, unsigned: Omit<R, 'signature'>): Promise<R> {
    const request = plain(unsigned);
    return { ...request, signature: await signer(spec.domain, spec.fields(request)) } as R;
  }

  /**
   * Accepts a request that is well formed, comes from the connected cluster (`from`), is meant for this one
   * (`to`), carries that cluster's signature and is fresh: its deadline neither passed nor further ahead
   * than a requester may wait, give or take the clock skew allowed.
   */
  async function verify(input: unknown, options: { from: string; to: string; clock: Clock; maxSkewMs?: number | undefined }): Promise<RequestVerdict<R>> {
    const parsed = spec.schema.safeParse(input);
    if (!parsed.success || (spec.valid && !spec.valid(parsed.data))) return { ok: false, reason: 'malformed request' };
    const request = parsed.data;
    const reason = await refuseSignedRequest(request, {
      from: options.from,
      to: options.to,
      now: options.clock.now().getTime(),
      maxSkewMs: options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
      maxAheadMs: spec.maxTimeoutMs,
      domain: spec.domain,
      fields: spec.fields(request),
    });
    return reason === undefined ? { ok: true, request } : { ok: false, reason };
  }

  /** The owner's side: `perform` runs only for a request that passed every check, within its deadline. */
  function responder<A>(options: ResponderOptions, perform: (request: R, from: string, signal: AbortSignal) => Promise<A>) {
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const refuse = (code: string, message: string): PeerRefusal => ({ error: { code, message } });
    return async (input: unknown, from: string, signal?: AbortSignal): Promise<A | PeerRefusal> => {
      if (!options.isPeered(from)) {
        logger.debug(`${spec.name} refused: cluster is not peered`, { clusterId: from });
        return refuse('not-allowed', 'this cluster is not peered with yours');
      }
      const verdict = await verify(input, { from, to: options.clusterId(), clock, maxSkewMs: options.maxSkewMs });
      if (!verdict.ok) {
        logger.debug(`${spec.name} refused`, { clusterId: from, reason: verdict.reason });
        return refuse('invalid-input', `${spec.name} refused: ${verdict.reason}`);
      }
      // Our own work stops at the requester's deadline (at least a second, for clocks slightly apart).
      const budget = AbortSignal.timeout(Math.max(1000, verdict.request.deadline - clock.now().getTime()));
      try {
        return await perform(verdict.request, from, signal ? AbortSignal.any([signal, budget]) : budget);
      } catch (error) {
        if (isArchipelError(error) && options.passedOn.has(error.kind)) {
          logger.debug(`${spec.name} from a peer refused`, { clusterId: from, code: error.kind });
          return refuse(error.kind, error.message);
        }
        logger.warn(`${spec.name} from a peer failed`, { clusterId: from, error: describeError(error) });
        return refuse('unavailable', `the ${spec.name} failed on this cluster`);
      }
    };
  }

  /**
   * The requester's side: signs the request for this cluster, sends it, waits at most until its deadline,
   * and returns the reply if it has the expected shape. A cluster that is not peered (or this one) is "not
   * found" and nothing is sent; no answer in time, or an unbelievable one, is `unavailable`; the owner's
   * refusal is an error of its kind with the owner's message.
   */
  function requester<Reply>(options: RequesterOptions, replySchema: z.ZodType<Reply>) {
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const timeoutMs = options.timeoutMs ?? spec.defaultTimeoutMs;
    const schema = z.union([replySchema, PeerRefusalSchema]);
    return async (clusterId: string, body: RequestBody<R>, signal?: AbortSignal): Promise<Reply> => {
      const self = options.clusterId();
      if (clusterId === self || !options.isPeered(clusterId)) throw new NotFoundError(`cluster ${clusterId} is not peered with this one`);
      const request = await sign(options.sign, { ...body, from: self, to: clusterId, deadline: clock.now().getTime() + timeoutMs } as Omit<R, 'signature'>);
      const raw = await askPeer(clusterId, (deadline) => options.ask(clusterId, request, deadline), { timeoutMs, signal });
      const reply = schema.safeParse(raw);
      if (!reply.success) throw new UnavailableError(`cluster ${clusterId} sent a reply that does not answer its ${spec.name}`, { details: { clusterId } });
      const data = reply.data as Reply | PeerRefusal;
      if (typeof data === 'object' && data !== null && 'error' in data && PeerRefusalSchema.safeParse(data).success) {
        const { code, message } = (data as PeerRefusal).error;
        logger.debug(`${spec.name} refused by a peer`, { clusterId, code });
        throw peerRefusal(clusterId, code, message);
      }
      return data as Reply;
    };
  }

  /** Sends requests over the discovery agent's peered-only streams. */
  const transport =
    (network: Pick<PeerNetwork, 'openPeeredStream'>): PeerTransport =>
    async (clusterId, request, signal) =>
      exchangeJson(await network.openPeeredStream(clusterId, spec.id, { signal }), request, { maxBytes: spec.maxBytes, signal });

  /** Answers the protocol's requests from peered clusters (others' streams are reset before anything is read). */
  async function serve(network: Pick<PeerNetwork, 'handlePeered'>, answer: (input: unknown, from: string, signal: AbortSignal) => Promise<unknown>, logger: Logger = silentLogger) {
    await network.handlePeered(spec.id, async (stream, connection) => {
      const from = connection.remotePeer.toString();
      // The longest deadline a requester may set, and the clock skew allowed.
      const signal = AbortSignal.timeout(spec.maxTimeoutMs + DEFAULT_MAX_SKEW_MS);
      try {
        await serveJson(stream, (request) => answer(request, from, signal), { maxBytes: spec.maxBytes, signal });
      } catch (error) {
        logger.debug(`${spec.name} exchange from a peer failed`, { clusterId: from, error: describeError(error) });
      }
    });
  }

  return { spec, sign, verify, responder, requester, transport, serve };
}

export type PeerProtocol<R extends SignedRequestEnvelope> = ReturnType<typeof definePeerProtocol<R>>;
