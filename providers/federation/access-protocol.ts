import { z } from 'zod';
import type { Clock } from '../../core/index.ts';
import { ClusterIdSchema, definePeerProtocol, type Signer } from '../../discovery/index.ts';
import { GrantAccessSchema } from '../http/grant-schemas.ts';
import type { GrantAccess } from '../access/grant-provider.ts';
import type { AccessGrant } from '../access/grant-service.ts';

/**
 * `/archipel/access/1.0.0`: a user of a peered cluster asks for access to a data or storage entry of this
 * one. One length-prefixed JSON message each way: a request signed by the requesting cluster's key, naming
 * the entry, the user and the projects (`clusterId/project`) they act for, how long the access should last
 * and a deadline; the answer is the grant and its access (credentials or URLs, sent once), or a typed
 * error. The owner decides with the entry's visibility, as for a search, and grants to that user alone.
 */
export const ACCESS_PROTOCOL = '/archipel/access/1.0.0';
/** The signature domain: an access request's signature can pass as nothing else. */
export const ACCESS_REQUEST_DOMAIN = 'archipel-access-request/1';

/** Largest message either way: a data grant lists up to 1,000 pre-signed URLs. */
export const MAX_ACCESS_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Longest a requester may wait: making a grant may create a role, a view or many URLs. */
export const MAX_ACCESS_TIMEOUT_MS = 60_000;
export const DEFAULT_ACCESS_TIMEOUT_MS = 15_000;
export const MAX_UPLOADS = 1000;


export const AccessRequestSchema = z.strictObject({
  /** The requesting cluster (the signer) and the cluster asked. */
  from: ClusterIdSchema,
  to: ClusterIdSchema,
  entryId: z.string().uuid(),
  /** The user of the requesting cluster the access is for, and the projects they act for. */
  user: z.string().min(1).max(63),
  projects: z.array(z.string().min(3).max(200)).max(256),
  ttlSeconds: z.number().int().min(1).max(7 * 24 * 3600),
  uploads: z.array(z.string().min(1).max(1024)).max(MAX_UPLOADS).optional(),
  /** Milliseconds since the epoch, on the requester's clock: no answer is useful after it. */
  deadline: z.number().int().nonnegative(),
  signature: z.string().min(1).max(4096),
});
export type AccessRequest = z.infer<typeof AccessRequestSchema>;
export type UnsignedAccessRequest = Omit<AccessRequest, 'signature' | 'projects' | 'uploads'> & {
  projects: readonly string[];
  uploads?: readonly string[];
};

const fieldsOf = (r: UnsignedAccessRequest) => [
  r.from,
  r.to,
  r.entryId,
  r.user,
  [...r.projects],
  r.ttlSeconds,
  r.uploads ? [...r.uploads] : null,
  r.deadline,
];

export const accessProtocol = definePeerProtocol<AccessRequest>({
  id: ACCESS_PROTOCOL,
  domain: ACCESS_REQUEST_DOMAIN,
  name: 'access request',
  schema: AccessRequestSchema,
  fields: fieldsOf,
  maxBytes: MAX_ACCESS_MESSAGE_BYTES,
  maxTimeoutMs: MAX_ACCESS_TIMEOUT_MS,
  defaultTimeoutMs: DEFAULT_ACCESS_TIMEOUT_MS,
});

/** Signs with the requesting cluster's key (`sign` is the discovery agent's). */
export const signAccessRequest = (sign: Signer, request: UnsignedAccessRequest): Promise<AccessRequest> => accessProtocol.sign(sign, request as Omit<AccessRequest, 'signature'>);

/** Accepts what `accessProtocol` accepts: well formed, from the connected cluster, for this one, signed, fresh. */
export const verifyAccessRequest = (input: unknown, options: { from: string; to: string; clock: Clock; maxSkewMs?: number }) => accessProtocol.verify(input, options);

const Timestamp = z.string().datetime();

/** A grant as it travels: what the requester needs to know and show, not the owner's target spec. */
const WireGrantSchema = z.strictObject({
  id: z.string().uuid(),
  entryId: z.string().uuid(),
  entryName: z.string().max(200),
  kind: z.enum(['data', 'storage']),
  targetType: z.enum(['directory', 's3', 'postgresql']),
  grantee: z.strictObject({ cluster: ClusterIdSchema, user: z.string().max(63) }),
  createdAt: Timestamp,
  expiresAt: Timestamp,
});
export type WireGrant = z.infer<typeof WireGrantSchema>;

export const AccessReplySchema = z.strictObject({ grant: WireGrantSchema, access: GrantAccessSchema });
export type AccessReply = z.infer<typeof AccessReplySchema>;
/** What a responder sends (the schema above is how a requester checks it). */
export type AccessAnswer = { grant: WireGrant; access: GrantAccess };

export const toWireGrant = (grant: AccessGrant, entryName: string): WireGrant => ({
  id: grant.id,
  entryId: grant.entryId!,
  entryName,
  kind: grant.kind,
  targetType: grant.targetType,
  grantee: grant.grantee,
  createdAt: grant.createdAt.toISOString(),
  expiresAt: grant.expiresAt.toISOString(),
});
