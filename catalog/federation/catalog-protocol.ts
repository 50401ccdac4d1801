import { z } from 'zod';
import type { Clock } from '../../core/index.ts';
import { ClusterIdSchema, definePeerProtocol, type Signer } from '../../discovery/index.ts';
import type { CatalogEntry, CatalogKind } from '../entries/catalog-entry.ts';
import { MAX_SEARCH_LIMIT } from '../entries/catalog-service.ts';
import { CatalogKindSchema, FederatedProjectIdSchema, MAX_ALLOWED_PROJECTS, UserNameSchema, VisibilitySchema } from '../entries/entry-schemas.ts';

/**
 * The catalog between peered clusters, two protocols of one length-prefixed JSON message each way: a
 * search (`/archipel/catalog/1.0.0`) or a get of one entry (`/archipel/catalog-entry/1.0.0`), signed by
 * the requesting cluster's key, naming the user and the projects (`clusterId/project`) it acts for and a
 * deadline; the answer holds the entries that caller may see, as the owner decides (the owner runs its
 * own search, or its own get, for a remote caller).
 */
export const CATALOG_PROTOCOL = '/archipel/catalog/1.0.0';
export const CATALOG_ENTRY_PROTOCOL = '/archipel/catalog-entry/1.0.0';
/** The signature domains: a catalog request's signature can pass as nothing else. */
export const CATALOG_REQUEST_DOMAIN = 'archipel-catalog-search/1';
export const CATALOG_GET_DOMAIN = 'archipel-catalog-get/1';

/** Largest message either way (a reply holds at most this many bytes of entries, a service's CWL included). */
export const MAX_CATALOG_MESSAGE_BYTES = 2 * 1024 * 1024;
/** Longest a federated search may wait for its peers. */
export const MAX_FEDERATED_TIMEOUT_MS = 30_000;
export const DEFAULT_FEDERATED_TIMEOUT_MS = 3_000;
const MAX_CALLER_PROJECTS = MAX_ALLOWED_PROJECTS;


export const SearchRequestSchema = z.strictObject({
  /** The requesting cluster (the signer) and the cluster asked. */
  from: ClusterIdSchema,
  to: ClusterIdSchema,
  q: z.string().max(500),
  kind: CatalogKindSchema.optional(),
  /** The user of the requesting cluster the search is for. */
  user: UserNameSchema,
  /** The projects the user acts for, as federation-wide ids. */
  projects: z.array(FederatedProjectIdSchema).max(MAX_CALLER_PROJECTS),
  limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT),
  /** Milliseconds since the epoch, on the requester's clock: no answer is useful after it. */
  deadline: z.number().int().nonnegative(),
  signature: z.string().min(1).max(4096),
});
export type SearchRequest = z.infer<typeof SearchRequestSchema>;
export type UnsignedSearchRequest = Omit<SearchRequest, 'signature' | 'kind' | 'projects'> & { kind?: CatalogKind; projects: readonly string[] };

const fieldsOf = (r: UnsignedSearchRequest) => [r.from, r.to, r.q, r.kind ?? null, r.user, [...r.projects], r.limit, r.deadline];

export const GetRequestSchema = z.strictObject({
  from: ClusterIdSchema,
  to: ClusterIdSchema,
  entryId: z.string().uuid(),
  user: UserNameSchema,
  projects: z.array(FederatedProjectIdSchema).max(MAX_CALLER_PROJECTS),
  deadline: z.number().int().nonnegative(),
  signature: z.string().min(1).max(4096),
});
export type GetRequest = z.infer<typeof GetRequestSchema>;
export type UnsignedGetRequest = Omit<GetRequest, 'signature' | 'projects'> & { projects: readonly string[] };

const getFieldsOf = (r: UnsignedGetRequest) => [r.from, r.to, r.entryId, r.user, [...r.projects], r.deadline];

export const searchProtocol = definePeerProtocol<SearchRequest>({
  id: CATALOG_PROTOCOL,
  domain: CATALOG_REQUEST_DOMAIN,
  name: 'catalog search',
  schema: SearchRequestSchema,
  fields: fieldsOf,
  maxBytes: MAX_CATALOG_MESSAGE_BYTES,
  maxTimeoutMs: MAX_FEDERATED_TIMEOUT_MS,
  defaultTimeoutMs: DEFAULT_FEDERATED_TIMEOUT_MS,
});

export const getProtocol = definePeerProtocol<GetRequest>({
  id: CATALOG_ENTRY_PROTOCOL,
  domain: CATALOG_GET_DOMAIN,
  name: 'catalog get',
  schema: GetRequestSchema,
  fields: getFieldsOf,
  maxBytes: MAX_CATALOG_MESSAGE_BYTES,
  maxTimeoutMs: MAX_FEDERATED_TIMEOUT_MS,
  defaultTimeoutMs: DEFAULT_FEDERATED_TIMEOUT_MS,
});

export interface VerifySearchOptions {
  /** The cluster at the other end of the stream: the request must be signed by it... */
  from: string;
  /** ...and meant for us. */
  to: string;
  clock: Clock;
  maxSkewMs?: number | undefined;
}

/** Signs with the requesting cluster's key (`sign` is the discovery agent's). */
export const signSearchRequest = (sign: Signer, request: UnsignedSearchRequest): Promise<SearchRequest> => searchProtocol.sign(sign, request as Omit<SearchRequest, 'signature'>);
export const signGetRequest = (sign: Signer, request: UnsignedGetRequest): Promise<GetRequest> => getProtocol.sign(sign, request as Omit<GetRequest, 'signature'>);

/**
 * Accepts a request that is well formed, comes from the connected cluster, is meant for this one, carries
 * that cluster's signature, and is fresh: its deadline has not passed and lies no further ahead than a
 * requester may wait (both give or take the clock skew allowed).
 */
export const verifySearchRequest = (input: unknown, options: VerifySearchOptions) => searchProtocol.verify(input, options);
export const verifyGetRequest = (input: unknown, options: VerifySearchOptions) => getProtocol.verify(input, options);

/** An entry as it travels: the HTTP shape (ISO timestamps). */
export type WireEntry = Omit<CatalogEntry, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

export const toWireEntry = (e: CatalogEntry): WireEntry => ({ ...e, createdAt: e.createdAt.toISOString(), updatedAt: e.updatedAt.toISOString() });

const WireEntrySchema = z.object({
  id: z.string().uuid(),
  kind: CatalogKindSchema,
  ownerCluster: ClusterIdSchema,
  name: z.string().min(1).max(200),
  description: z.string().max(4000),
  tags: z.array(z.string().max(64)).max(64),
  owners: z.array(z.string().max(63)).max(64),
  licence: z.string().max(200).nullable(),
  visibility: VisibilitySchema,
  allowedProjects: z.array(FederatedProjectIdSchema).max(MAX_ALLOWED_PROJECTS),
  spec: z.record(z.string(), z.unknown()),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
});

export const SearchReplySchema = z.union([
  z.strictObject({
    items: z.array(WireEntrySchema).max(MAX_SEARCH_LIMIT),
    /** Whether entries were left out to keep the reply under the size limit. */
    truncated: z.boolean(),
  }),
  z.strictObject({ error: z.strictObject({ code: z.string().max(64), message: z.string().max(1000) }) }),
]);
export type SearchReply = z.infer<typeof SearchReplySchema>;
/** What a responder sends (the schema above is how a requester checks it). */
export type SearchAnswer = { items: WireEntry[]; truncated: boolean } | { error: { code: string; message: string } };

export const fromWireEntry = (e: z.infer<typeof WireEntrySchema>): CatalogEntry =>
  ({ ...e, createdAt: new Date(e.createdAt), updatedAt: new Date(e.updatedAt) }) as CatalogEntry;

export const GetReplySchema = z.strictObject({ entry: WireEntrySchema });
export type GetAnswer = { entry: WireEntry };
