// The OpenAPI-extended zod: the catalog's HTTP schemas describe these schemas with `.openapi()`, which a
// schema has only if zod was extended before it was made (whichever module is imported first).
import { z } from '@hono/zod-openapi';

/**
 * The schemas that validate catalog input, shared by the service (which validates whatever calls it) and
 * the HTTP routes (which validate requests with them and publish them in the OpenAPI document).
 */

/** Largest CWL document a service entry may carry (ARCHITECTURE.md §6: limits where input arrives). */
export const MAX_CWL_BYTES = 256 * 1024;
export const MAX_TAGS = 32;
export const MAX_OWNERS = 32;
export const MAX_ALLOWED_PROJECTS = 256;

/** User and project names, as the identity service accepts them. */
const LOCAL_NAME = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/;
export const UserNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(LOCAL_NAME, { message: 'must be a user name of this cluster (lower-case letters, digits, ".", "_", "-")' });

/** A federation-wide project id: `<clusterId>/<project>`, the cluster id being a libp2p peer id. */
export const FederatedProjectIdSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9]{1,128}\/[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/, {
    message: 'must be a federation-wide project id "<clusterId>/<project>"',
  });

export const TagSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9.:_+-]*[a-z0-9])?$/, {
    message: 'must be 1-63 lower-case letters, digits, ".", ":", "_", "+" or "-", starting and ending with a letter or digit',
  });

export const CatalogKindSchema = z.enum(['service', 'data', 'storage', 'compute']);
export const VisibilitySchema = z.enum(['public', 'private', 'restricted']);

const EntryName = z
  .string()
  .trim()
  .min(1, { message: 'must not be empty' })
  .max(200)
  .refine((name) => ![...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), {
    message: 'must not hold control characters (such as line breaks)',
  });
const Description = z.string().max(4000);
const Licence = z.string().trim().min(1).max(100);

/**
 * A container image reference as Docker and Kubernetes read it: `[registry[:port]/]path[:tag][@sha256:digest]`,
 * the path in lower case.
 */
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
export const ImageReferenceSchema = z
  .string()
  .max(255)
  .regex(IMAGE_REFERENCE, { message: 'must be a container image reference such as "ghcr.io/org/tool:1.2" or "ubuntu@sha256:<digest>"' });

/** An absolute, normalised directory path: no `.` or `..` segments, no empty segments. */
const DirectoryPath = z
  .string()
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.includes('\0') && (p === '/' || p.slice(1).split('/').every((s) => s !== '' && s !== '.' && s !== '..')), {
    message: 'must be an absolute path without ".", ".." or empty segments',
  });

/** S3 bucket names (the AWS rules: 3-63 lower-case letters, digits, "." and "-"). */
const Bucket = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name: 3-63 lower-case letters, digits, "." or "-"' });
const Prefix = z
  .string()
  .max(1024)
  .refine((p) => !p.startsWith('/'), { message: 'must not start with "/"' });
const HttpUrl = z
  .string()
  .max(2048)
  .refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), { message: 'must be an http(s) URL' });

const S3Location = {
  type: z.literal('s3'),
  bucket: Bucket,
  prefix: Prefix.optional(),
  endpoint: HttpUrl.optional(),
  region: z.string().min(1).max(64).optional(),
};

/** A PostgreSQL identifier, optionally schema-qualified: `table` or `schema.table` (unquoted names only). */
const PG_IDENTIFIER = '[A-Za-z_][A-Za-z0-9_$]{0,62}';
const TableName = z
  .string()
  .regex(new RegExp(`^${PG_IDENTIFIER}(?:\\.${PG_IDENTIFIER})?$`), { message: 'must be a table name, "table" or "schema.table"' });
const SchemaName = z.string().regex(new RegExp(`^${PG_IDENTIFIER}$`), { message: 'must be a schema name' });
/**
 * One read-only query: it must start with SELECT or WITH and hold a single statement. The data provider
 * runs it only inside a view it creates, read by a role that can read nothing else.
 */
const ReadQuery = z
  .string()
  .max(64 * 1024)
  .refine((q) => /^\s*(?:select|with)\b/i.test(q), { message: 'must be a SELECT (or WITH ... SELECT) query' })
  .refine((q) => !q.replace(/;\s*$/, '').includes(';'), { message: 'must be a single statement' });

export const DataSourceSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('directory'), path: DirectoryPath }),
  z.strictObject(S3Location),
  z
    .strictObject({ type: z.literal('postgresql'), table: TableName.optional(), query: ReadQuery.optional() })
    .superRefine((source, ctx) => {
      if ((source.table === undefined) === (source.query === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['table'], message: 'give either "table" or "query" (exactly one)' });
      }
    }),
]);

/** How a data provider grants access; each kind of source has the one that fits it. */
export const DataAccessSchema = z.enum(['read-only-mount', 'presigned-url', 'database-role']);
export const ACCESS_BY_SOURCE = { directory: 'read-only-mount', s3: 'presigned-url', postgresql: 'database-role' } as const;

export const DataSpecSchema = z
  .strictObject({ source: DataSourceSchema, access: DataAccessSchema.optional() })
  .superRefine((spec, ctx) => {
    const expected = ACCESS_BY_SOURCE[spec.source.type];
    if (spec.access !== undefined && spec.access !== expected) {
      ctx.addIssue({ code: 'custom', path: ['access'], message: `a ${spec.source.type} source is shared by "${expected}"` });
    }
  })
  .transform((spec) => ({ source: spec.source, access: spec.access ?? ACCESS_BY_SOURCE[spec.source.type] }));

export const StorageTargetSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('directory'), path: DirectoryPath }),
  z.strictObject(S3Location),
  z.strictObject({ type: z.literal('postgresql'), schema: SchemaName }),
]);
export const StorageSpecSchema = z.strictObject({ target: StorageTargetSchema });

const Cores = z.number().positive().max(1_000_000).multipleOf(0.001, { message: 'must be a whole number of thousandths of a core' });
const MemoryMiB = z.number().int().positive().max(1024 * 1024 * 1024);
const Gpus = z.number().int().min(0).max(100_000);

/**
 * A compute entry as given: what is left out (the capacity, the quota per peer) is taken from this node's
 * compute provider when the entry is written (see the catalog service's `computeOffer`).
 */
export const ComputeSpecSchema = z.strictObject({
  cores: Cores.optional(),
  memoryMiB: MemoryMiB.optional(),
  gpus: Gpus.optional(),
  perPeerQuota: z.strictObject({ cores: Cores.optional(), memoryMiB: MemoryMiB.optional(), gpus: Gpus.optional() }).optional(),
});

/** What a service entry is given; its inputs and outputs are derived from the CWL document. */
export const ServiceSpecInputSchema = z.strictObject({
  image: ImageReferenceSchema,
  cwl: z
    .string()
    .min(1, { message: 'must hold a CWL CommandLineTool document' })
    .refine((text) => Buffer.byteLength(text, 'utf8') <= MAX_CWL_BYTES, { message: `must be at most ${MAX_CWL_BYTES} bytes` }),
  /** The tool runs only on the owner's cluster (its licences, data or hardware stay there); default false. */
  runsOnOwner: z.boolean().optional(),
});

export const SPEC_SCHEMAS = {
  service: ServiceSpecInputSchema,
  data: DataSpecSchema,
  storage: StorageSpecSchema,
  compute: ComputeSpecSchema,
} as const;

/** The fields every kind shares, as given on creation. */
export const EntryFieldsSchema = {
  name: EntryName,
  description: Description.optional(),
  tags: z.array(TagSchema).max(MAX_TAGS).optional(),
  owners: z.array(UserNameSchema).min(1).max(MAX_OWNERS).optional(),
  licence: Licence.nullable().optional(),
  visibility: VisibilitySchema.optional(),
  allowedProjects: z.array(FederatedProjectIdSchema).max(MAX_ALLOWED_PROJECTS).optional(),
};

export const NewEntrySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('service'), ...EntryFieldsSchema, spec: ServiceSpecInputSchema }),
  z.strictObject({ kind: z.literal('data'), ...EntryFieldsSchema, spec: DataSpecSchema }),
  z.strictObject({ kind: z.literal('storage'), ...EntryFieldsSchema, spec: StorageSpecSchema }),
  z.strictObject({ kind: z.literal('compute'), ...EntryFieldsSchema, spec: ComputeSpecSchema }),
]);

/**
 * A change (PATCH): every field optional, `kind` fixed at creation. A given `spec` replaces the whole spec
 * and is validated against the entry's kind; `licence: null` removes the licence.
 */
export const EntryChangeSchema = z.strictObject({
  ...EntryFieldsSchema,
  name: EntryName.optional(),
  spec: z.record(z.string(), z.unknown()).optional(),
});

export type NewCatalogEntry = z.input<typeof NewEntrySchema>;
export type CatalogEntryChange = z.input<typeof EntryChangeSchema>;
export type DataSpec = z.output<typeof DataSpecSchema>;
export type DataSource = z.output<typeof DataSourceSchema>;
export type StorageSpec = z.output<typeof StorageSpecSchema>;
export type StorageTarget = z.output<typeof StorageTargetSchema>;
export type ComputeSpecInput = z.output<typeof ComputeSpecSchema>;
/** A compute entry's spec as stored and shown: the capacity offered, whole. */
export interface ComputeSpec {
  cores: number;
  memoryMiB: number;
  gpus: number;
  perPeerQuota?: { cores?: number; memoryMiB?: number; gpus?: number };
}
