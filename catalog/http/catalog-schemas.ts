import { z } from '@hono/zod-openapi';
import {
  CatalogKindSchema,
  ComputeSpecSchema,
  DataSpecSchema,
  EntryFieldsSchema,
  FederatedProjectIdSchema,
  ImageReferenceSchema,
  ServiceSpecInputSchema,
  StorageSpecSchema,
  TagSchema,
  VisibilitySchema,
} from '../entries/entry-schemas.ts';
import { MAX_LIST_LIMIT, MAX_SEARCH_LIMIT } from '../entries/catalog-service.ts';
import { DEFAULT_FEDERATED_TIMEOUT_MS, MAX_FEDERATED_TIMEOUT_MS } from '../federation/catalog-protocol.ts';

/** The HTTP shapes of the catalog: the domain schemas, named for the OpenAPI document. */
const Timestamp = z.string().datetime().openapi({ example: '2026-11-22T10:00:00.000Z' });

const ServiceSpecIn = ServiceSpecInputSchema.openapi('ServiceSpecInput', {
  description: 'A container image and the CWL CommandLineTool (YAML or JSON text) it runs; inputs and outputs are derived from it',
});
const DataSpecIn = DataSpecSchema.openapi('DataSpec', {
  description: 'A read-only source and how access is granted (defaults to the one that fits the source)',
});
const StorageSpecIn = StorageSpecSchema.openapi('StorageSpec', { description: 'A writable target' });
const ComputeSpecIn = ComputeSpecSchema.openapi('ComputeSpec', {
  description: "The capacity offered, with an optional quota per peer; what is left out is taken from this node's compute provider, which it may not exceed",
});

const entryFields = {
  ...EntryFieldsSchema,
  visibility: EntryFieldsSchema.visibility.openapi({ description: 'Who may see the entry (default private)' }),
  owners: EntryFieldsSchema.owners.openapi({ description: 'User names of this cluster who may change the entry (default: you)' }),
  allowedProjects: EntryFieldsSchema.allowedProjects.openapi({
    description: 'For a restricted entry: the federation-wide project ids ("clusterId/project") it is shared with',
  }),
};

export const NewEntryBodySchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('service'), ...entryFields, spec: ServiceSpecIn }),
    z.strictObject({ kind: z.literal('data'), ...entryFields, spec: DataSpecIn }),
    z.strictObject({ kind: z.literal('storage'), ...entryFields, spec: StorageSpecIn }),
    z.strictObject({ kind: z.literal('compute'), ...entryFields, spec: ComputeSpecIn }),
  ])
  .openapi('NewCatalogEntry');

export const EntryChangeBodySchema = z
  .strictObject({
    ...entryFields,
    name: entryFields.name.optional(),
    spec: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "A new spec for the entry's kind (replaces the whole spec)" }),
  })
  .openapi('CatalogEntryChange');

const ToolTypeSchema = z.unknown().openapi({ description: 'A CWL type: a name ("File", "int", ...), a union list, or an array/enum/record object' });
const ToolParameterSchema = z
  .object({
    id: z.string(),
    type: ToolTypeSchema,
    required: z.boolean(),
    label: z.string().optional(),
    doc: z.string().optional(),
    default: z.unknown().optional(),
  })
  .openapi('ToolParameter');

const ServiceSpecOut = z
  .object({ image: ImageReferenceSchema, cwl: z.string(), runsOnOwner: z.boolean().optional(), inputs: z.array(ToolParameterSchema), outputs: z.array(ToolParameterSchema) })
  .openapi('ServiceSpec');

export const EntrySchema = z
  .object({
    id: z.string().uuid(),
    kind: CatalogKindSchema,
    ownerCluster: z.string(),
    name: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    owners: z.array(z.string()),
    licence: z.string().nullable(),
    visibility: VisibilitySchema,
    allowedProjects: z.array(FederatedProjectIdSchema).openapi({
      description: 'In full for those who may change the entry; others see only their own projects among them',
    }),
    spec: z.union([ServiceSpecOut, z.record(z.string(), z.unknown())]),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('CatalogEntry');

export const EntryIdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });
export const EntryClusterQuery = z.object({
  cluster: z.string().min(1).max(128).optional().openapi({ description: "A peered cluster's id: its entry, asked of it for the caller" }),
});

const limit = (max: number) => z.coerce.number().int().min(1).max(max).optional();

export const ListQuery = z.object({
  kind: CatalogKindSchema.optional().openapi({ param: { name: 'kind', in: 'query' } }),
  tag: TagSchema.optional().openapi({ param: { name: 'tag', in: 'query' } }),
  limit: limit(MAX_LIST_LIMIT).openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z.string().max(2000).optional().openapi({ param: { name: 'cursor', in: 'query' } }),
});

export const EntryPageSchema = z
  .object({ items: z.array(EntrySchema), nextCursor: z.string().nullable() })
  .openapi('CatalogEntryPage');

export const SearchQuery = z.object({
  q: z.string().max(500).optional().openapi({ param: { name: 'q', in: 'query' }, description: 'Words that must all appear in the name, description or tags' }),
  kind: CatalogKindSchema.optional().openapi({ param: { name: 'kind', in: 'query' } }),
  scope: z.enum(['local', 'federation']).default('local').openapi({ param: { name: 'scope', in: 'query' } }),
  limit: limit(MAX_SEARCH_LIMIT).openapi({ param: { name: 'limit', in: 'query' } }),
  timeoutMs: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_FEDERATED_TIMEOUT_MS)
    .optional()
    .openapi({
      param: { name: 'timeoutMs', in: 'query' },
      description: `scope=federation: how long to wait for the peered clusters, in ms (default ${DEFAULT_FEDERATED_TIMEOUT_MS})`,
    }),
});

const UnansweredPeerSchema = z
  .object({
    clusterId: z.string(),
    name: z.string().optional(),
    reason: z.enum(['timeout', 'unreachable', 'refused', 'invalid-reply', 'failed']),
    message: z.string(),
  })
  .openapi('UnansweredPeer');

export const SearchResultSchema = z
  .object({
    scope: z.enum(['local', 'federation']),
    items: z.array(
      EntrySchema.extend({
        origin: z.string().optional().openapi({ description: 'scope=federation: the cluster that answered with this entry (its owner)' }),
      }),
    ),
    partial: z.boolean().optional().openapi({ description: 'scope=federation: whether some peered cluster did not answer' }),
    unanswered: z.array(UnansweredPeerSchema).optional().openapi({ description: 'scope=federation: the peered clusters that did not answer, and why' }),
  })
  .openapi('CatalogSearchResult');
