import { z } from 'zod';
import type { Clock, IdentitySpec } from '../core/index.ts';
import type { PrivateKey } from '@libp2p/interface';
import { signFields, verifyFields } from './signing.ts';

/**
 * A cluster's signed identity record: who it is (name, description), where its API is, what it can do,
 * a sequence number that grows with every new record, and an expiry. It is signed with the cluster's
 * libp2p key, whose peer id is the cluster id, so anyone can check it without trusting who passed it on.
 */
export type IdentityRecord = IdentitySpec;
export type UnsignedIdentityRecord = Omit<IdentityRecord, 'signature'>;

export const IDENTITY_RECORD_DOMAIN = 'archipel-identity-record/1';
const DOMAIN = IDENTITY_RECORD_DOMAIN;

/** RFC 3339, second precision (what the resource store keeps, byte for byte). */
export const rfc3339 = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z');

/** The record's shape, with the CRD's limits. */
export const IdentityRecordSchema = z.strictObject({
  clusterId: z.string().min(1).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/),
  name: z.string().min(1).max(128),
  description: z.string().max(2048).optional(),
  apiEndpoint: z.string().url().max(2048).optional(),
  capabilities: z.array(z.string().min(1).max(128)).max(64).optional(),
  sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  expiresAt: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
  signature: z.string().min(1).max(4096),
});

const fieldsOf = (r: UnsignedIdentityRecord) => [
  r.clusterId,
  r.name,
  r.description ?? null,
  r.apiEndpoint ?? null,
  r.capabilities ?? [],
  r.sequence,
  r.expiresAt,
];

/** Signs a record with the cluster's key; `record.clusterId` must be that key's peer id. */
export async function signIdentityRecord(key: PrivateKey, record: UnsignedIdentityRecord): Promise<IdentityRecord> {
  const unsigned: UnsignedIdentityRecord = {
    clusterId: record.clusterId,
    name: record.name,
    ...(record.description !== undefined ? { description: record.description } : {}),
    ...(record.apiEndpoint !== undefined ? { apiEndpoint: record.apiEndpoint } : {}),
    ...(record.capabilities !== undefined ? { capabilities: [...record.capabilities] } : {}),
    sequence: record.sequence,
    expiresAt: record.expiresAt,
  };
  return { ...unsigned, signature: await signFields(key, DOMAIN, fieldsOf(unsigned)) };
}

export type RecordVerdict =
  | { accepted: true; record: IdentityRecord }
  | { accepted: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'stale' | 'unchanged' | 'unexpected-cluster' };

export interface VerifyRecordOptions {
  clock: Clock;
  /** The newest record already accepted for this cluster: the new one must have a higher sequence. */
  current?: IdentityRecord;
  /** When the record must be this cluster's (it came from that peer itself). */
  expectedClusterId?: string;
}

/**
 * Whether to accept a record: well-formed, signed by the key of the cluster id it names (so its
 * clusterId cannot be anyone else's), not expired by `clock`, and newer than `current`. Records are
 * dropped, never partly used; the verdict says why.
 */
export async function verifyIdentityRecord(input: unknown, options: VerifyRecordOptions): Promise<RecordVerdict> {
  const parsed = IdentityRecordSchema.safeParse(input);
  if (!parsed.success) return { accepted: false, reason: 'malformed' };
  const record = parsed.data as IdentityRecord;
  if (options.expectedClusterId !== undefined && record.clusterId !== options.expectedClusterId) {
    return { accepted: false, reason: 'unexpected-cluster' };
  }
  const { current } = options;
  if (current && current.clusterId === record.clusterId) {
    if (record.sequence < current.sequence) return { accepted: false, reason: 'stale' };
    if (record.sequence === current.sequence) {
      return { accepted: false, reason: record.signature === current.signature ? 'unchanged' : 'stale' };
    }
  }
  if (!(await verifyFields(record.clusterId, DOMAIN, fieldsOf(record), record.signature))) return { accepted: false, reason: 'bad-signature' };
  if (Date.parse(record.expiresAt) <= options.clock.now().getTime()) return { accepted: false, reason: 'expired' };
  return { accepted: true, record };
}
