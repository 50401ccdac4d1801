import { verifyFields } from './signing.ts';

/** What every signed request between clusters carries: who sent it, to whom, until when, and the signature. */
export interface SignedRequestEnvelope {
  from: string;
  to: string;
  /** Milliseconds since the epoch, on the sender's clock. */
  deadline: number;
  signature: string;
}

export interface SignedRequestCheck {
  /** The cluster at the other end of the stream: the request must be signed by it... */
  from: string;
  /** ...and meant for us. */
  to: string;
  /** Now on our clock, in milliseconds since the epoch. */
  now: number;
  /** How far the sender's clock may be from ours. */
  maxSkewMs: number;
  /** The longest a sender may wait for an answer: a deadline further ahead is refused. */
  maxAheadMs: number;
  /** The signature domain of the protocol, and the request's fields in their signed order. */
  domain: string;
  fields: readonly unknown[];
}

/**
 * Why a (well-formed) request from a peer must be refused, or undefined if it comes from the connected
 * cluster, is meant for this one, is fresh (its deadline neither passed nor further ahead than a sender
 * may wait, give or take the clock skew) and carries the sender's signature over its fields.
 */
export async function refuseSignedRequest(request: SignedRequestEnvelope, check: SignedRequestCheck): Promise<string | undefined> {
  if (request.from !== check.from) return 'the sender is not the connected cluster';
  if (request.to !== check.to) return 'the request is meant for another cluster';
  if (request.deadline < check.now - check.maxSkewMs) return 'the request has expired';
  if (request.deadline > check.now + check.maxAheadMs + check.maxSkewMs) return 'the deadline is too far ahead';
  if (!(await verifyFields(request.from, check.domain, check.fields, request.signature))) return 'bad signature';
  return undefined;
}
