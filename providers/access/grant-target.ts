import { z } from 'zod';
import type { DataSource, StorageTarget } from '../../catalog/index.ts';

/**
 * What a grant gives access to: a data source (read-only) or a storage target (writable), in the shapes
 * of the catalog's `data` and `storage` entry specs. The schemas below mirror the catalog's (which its
 * public surface does not export yet); the `satisfies` checks at the end keep the two in step.
 */
export type GrantTarget = { kind: 'data'; source: DataSource } | { kind: 'storage'; target: StorageTarget };
export type GrantKind = GrantTarget['kind'];
export type GrantTargetType = 'directory' | 's3' | 'postgresql';

export const targetType = (target: GrantTarget): GrantTargetType =>
  target.kind === 'data' ? target.source.type : target.target.type;

const DirectoryPath = z
  .string()
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.includes('\0') && (p === '/' || p.slice(1).split('/').every((s) => s !== '' && s !== '.' && s !== '..')), {
    message: 'must be an absolute path without ".", ".." or empty segments',
  });
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

/** An unquoted PostgreSQL identifier (the grant quotes it anyway). */
export const PG_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const TableName = z
  .string()
  .refine((t) => t.split('.').length <= 2 && t.split('.').every((part) => PG_IDENTIFIER.test(part)), {
    message: 'must be a table name, "table" or "schema.table"',
  });
const SchemaName = z.string().regex(PG_IDENTIFIER, { message: 'must be a schema name' });
const ReadQuery = z
  .string()
  .max(64 * 1024)
  .refine((q) => /^\s*(?:select|with)\b/i.test(q), { message: 'must be a SELECT (or WITH ... SELECT) query' })
  .refine((q) => !q.replace(/;\s*$/, '').includes(';'), { message: 'must be a single statement' });

export const GrantDataSourceSchema = z.discriminatedUnion('type', [
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

export const GrantStorageTargetSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('directory'), path: DirectoryPath }),
  z.strictObject(S3Location),
  z.strictObject({ type: z.literal('postgresql'), schema: SchemaName }),
]);

export const GrantTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('data'), source: GrantDataSourceSchema }),
  z.strictObject({ kind: z.literal('storage'), target: GrantStorageTargetSchema }),
]);

// Compile-time: what these schemas accept is what the catalog's specs hold, and the other way round.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const _sameDataSource: Same<z.output<typeof GrantDataSourceSchema>, DataSource> = true;
export const _sameStorageTarget: Same<z.output<typeof GrantStorageTargetSchema>, StorageTarget> = true;
