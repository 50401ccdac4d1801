import { z } from 'zod';
import type { Clock } from '../../core/index.ts';
import { ClusterIdSchema, definePeerProtocol, type Signer } from '../../discovery/index.ts';
import { GrantAccessSchema } from '../http/grant-schemas.ts';
import type { GrantAccess } from '../access/grant-provider.ts';
import type { AccessGrant } from '../access/grant-service.ts';

/**
 * `/archipel/access/1.0.0`: a user of a peered cluster asks for access to a data or storage entry of this
 * one, lists the grants this cluster made for them, or gives one back. One length-prefixed JSON message
 * each way: a request signed by the requesting cluster's key, naming the operation (`grant`, the default;
 * `list`; `release`), the user and the projects (`clusterId/project`) they act for, and a deadline; for a
 * `grant` the entry and how long the access should last, for a `release` the grant. The answer is the
 * grant and its access (credentials or URLs, sent once), the user's grants, the released grant, or a typed
 * error. The owner decides a grant with the entry's visibility, as for a search, and grants to that user
 * alone; it lists and releases only the grants made for that user of the requesting cluster.
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


export const AccessOpSchema = z.enum(['grant', 'list', 'release']);
export type AccessOp = z.infer<typeof AccessOpSchema>;
/** The most grants one `list` returns. */
export const MAX_REMOTE_GRANTS = 500;

export const AccessRequestSchema = z.strictObject({
  /** The requesting cluster (the signer) and the cluster asked. */
  from: ClusterIdSchema,
  to: ClusterIdSchema,
  /** What is asked (default `grant`: requests of the first version of the protocol name none). */
  op: AccessOpSchema.optional(),
  /** The entry to grant access to (`grant` only). */
  entryId: z.string().uuid().optional(),
  /** The grant to give back (`release` only). */
  grantId: z.string().uuid().optional(),
  /** Which of the user's grants to list (`list` only): `open` (default) or `all`, and how many. */
  state: z.enum(['open', 'all']).optional(),
  limit: z.number().int().min(1).max(MAX_REMOTE_GRANTS).optional(),
  /** The user of the requesting cluster the access is for, and the projects they act for. */
  user: z.string().min(1).max(63),
  projects: z.array(z.string().min(3).max(200)).max(256),
  ttlSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional(),
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

/**
 * A `grant` signs the fields of the first version of the protocol, so that its signature is the same for
 * both; `list` and `release` sign their operation and fields after them (one can pass for no other).
 */
const fieldsOf = (r: UnsignedAccessRequest) => {
  const first = [r.from, r.to, r.entryId ?? null, r.user, [...r.projects], r.ttlSeconds ?? null, r.uploads ? [...r.uploads] : null, r.deadline];
  const op = r.op ?? 'grant';
  return op === 'grant' ? first : [...first, op, r.grantId ?? null, r.state ?? null, r.limit ?? null];
};

/** What each operation must name, and nothing of another's. */
function validRequest(r: AccessRequest): boolean {
  const op = r.op ?? 'grant';
  if (op === 'grant') return r.entryId !== undefined && r.ttlSeconds !== undefined && r.grantId === undefined && r.state === undefined && r.limit === undefined;
  const common = r.entryId === undefined && r.ttlSeconds === undefined && r.uploads === undefined;
  if (op === 'list') return common && r.grantId === undefined;
  return common && r.grantId !== undefined && r.state === undefined && r.limit === undefined;
}

export const accessProtocol = definePeerProtocol<AccessRequest>({
  id: ACCESS_PROTOCOL,
  domain: ACCESS_REQUEST_DOMAIN,
  name: 'access request',
  schema: AccessRequestSchema,
  fields: fieldsOf,
  valid: validRequest,
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
  /** Null in a `list` for an entry the user may no longer see. */
  entryName: z.string().max(200).nullable(),
  kind: z.enum(['data', 'storage']),
  targetType: z.enum(['directory', 's3', 'postgresql']),
  grantee: z.strictObject({ cluster: ClusterIdSchema, user: z.string().max(63) }),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  /** In `list` and `release` answers only (a `grant` answer keeps the first version's shape). */
  revokedAt: Timestamp.nullable().optional(),
  state: z.enum(['active', 'expired', 'revoked']).optional(),
});
export type WireGrant = z.infer<typeof WireGrantSchema>;

export const AccessReplySchema = z.strictObject({ grant: WireGrantSchema, access: GrantAccessSchema });
export type AccessReply = z.infer<typeof AccessReplySchema>;
/** The answer to a `list`: the user's grants, newest first. */
export const AccessListReplySchema = z.strictObject({ grants: z.array(WireGrantSchema).max(MAX_REMOTE_GRANTS) });
/** The answer to a `release`: the grant, revoked. */
export const AccessReleaseReplySchema = z.strictObject({ released: WireGrantSchema });
/** What a responder sends (the schemas above are how a requester checks it). */
export type AccessAnswer = { grant: WireGrant; access: GrantAccess } | { grants: WireGrant[] } | { released: WireGrant };

export const toWireGrant = (grant: AccessGrant, entryName: string | null): WireGrant => ({
  id: grant.id,
  entryId: grant.entryId!,
  entryName,
  kind: grant.kind,
  targetType: grant.targetType,
  grantee: grant.grantee,
  createdAt: grant.createdAt.toISOString(),
  expiresAt: grant.expiresAt.toISOString(),
});

/** A grant with its state, as `list` and `release` answer it. */
export const toWireGrantState = (grant: AccessGrant, entryName: string | null): WireGrant => ({
  ...toWireGrant(grant, entryName),
  revokedAt: grant.revokedAt ? grant.revokedAt.toISOString() : null,
  state: grant.state,
});
