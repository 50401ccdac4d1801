import { randomBytes } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import { z } from 'zod';
import type { Clock } from '../core/index.ts';
import type { PeeringDecision } from './peering-state.ts';
import { signFields, verifyFields } from './signing.ts';
import { rfc3339 } from './identity-record.ts';

/**
 * The messages of `/archipel/peering/1.0.0`, each signed by its sender's cluster key: a `request`
 * ("peer with me"), and a `decision` (`approved`, `refused`, or `pending` while the operator decides),
 * sent as the reply to a request and again on its own when the operator decides later. Each names its
 * sender and recipient, carries a time and a nonce: a message for another cluster, an old one or a
 * replayed one is rejected.
 */
export const PEERING_PROTOCOL = '/archipel/peering/1.0.0';
export const PEERING_DOMAIN = 'archipel-peering/1';
const DOMAIN = PEERING_DOMAIN;

const ClusterId = z.string().min(1).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/);
export const PeeringMessageSchema = z.strictObject({
  type: z.enum(['request', 'decision']),
  from: ClusterId,
  to: ClusterId,
  decision: z.enum(['approved', 'refused', 'pending']).optional(),
  issuedAt: z.string().max(40),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  signature: z.string().min(1).max(4096),
});
export type PeeringMessage = z.infer<typeof PeeringMessageSchema>;

const fieldsOf = (m: Omit<PeeringMessage, 'signature'>) => [m.type, m.from, m.to, m.decision ?? null, m.issuedAt, m.nonce];

export async function createPeeringMessage(
  key: PrivateKey,
  clock: Clock,
  message: { type: 'request'; from: string; to: string } | { type: 'decision'; from: string; to: string; decision: PeeringDecision },
): Promise<PeeringMessage> {
  const unsigned = { ...message, issuedAt: rfc3339(clock.now()), nonce: randomBytes(16).toString('hex') };
  return { ...unsigned, signature: await signFields(key, DOMAIN, fieldsOf(unsigned)) };
}

export interface VerifyPeeringOptions {
  clock: Clock;
  /** The cluster at the other end of the stream: the message must come from it... */
  from: string;
  /** ...and be meant for us. */
  to: string;
  /** How far `issuedAt` may be from our clock (default 5 minutes). */
  maxSkewMs?: number;
  /** Nonces seen within the skew window; the message's nonce is added when it is accepted. */
  seenNonces: Map<string, number>;
}

export type PeeringVerdict = { ok: true; message: PeeringMessage } | { ok: false; reason: string };

export async function verifyPeeringMessage(input: unknown, options: VerifyPeeringOptions): Promise<PeeringVerdict> {
  const parsed = PeeringMessageSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  const message = parsed.data;
  if (message.from !== options.from) return { ok: false, reason: 'sender is not the connected peer' };
  if (message.to !== options.to) return { ok: false, reason: 'meant for another cluster' };
  if ((message.type === 'decision') !== (message.decision !== undefined)) return { ok: false, reason: 'malformed' };
  const now = options.clock.now().getTime();
  const skew = options.maxSkewMs ?? 5 * 60_000;
  const issued = Date.parse(message.issuedAt);
  if (!Number.isFinite(issued) || Math.abs(now - issued) > skew) return { ok: false, reason: 'too old or from the future' };
  for (const [nonce, expires] of options.seenNonces) if (expires < now) options.seenNonces.delete(nonce);
  if (options.seenNonces.has(message.nonce)) return { ok: false, reason: 'replayed' };
  if (!(await verifyFields(message.from, DOMAIN, fieldsOf(message), message.signature))) return { ok: false, reason: 'bad signature' };
  options.seenNonces.set(message.nonce, issued + skew);
  return { ok: true, message };
}
