import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  describeError,
  InvalidInputError,
  NotAllowedError,
  NotFoundError,
  silentLogger,
  systemClock,
  type Clock,
  type InputIssue,
  type Logger,
  type SqlDatabase,
  type SqlExecutor,
  type SqlQueryOptions,
} from '../../core/index.ts';
import type { CatalogCaller, CatalogEntry, CatalogKind, Visibility } from './catalog-entry.ts';
import {
  EntryChangeSchema,
  NewEntrySchema,
  SPEC_SCHEMAS,
  type CatalogEntryChange,
  type ComputeSpec,
  type ComputeSpecInput,
  type NewCatalogEntry,
} from './entry-schemas.ts';
import { loadServiceTool } from './service-tool.ts';
import { callerProjects, canManage, SqlParams, visibilityCondition } from './visibility-filter.ts';

/** Looks up user names of this cluster (the identity service provides it). */
export interface CatalogUserDirectory {
  /** The names among `names` that are users of this cluster. */
  existingUserNames(names: readonly string[]): Promise<string[]>;
}

export interface CatalogServiceOptions {
  db: SqlDatabase;
  /**
   * This cluster's id (its libp2p peer id): the owner cluster of every entry it creates. A function when it
   * is known only later (the node learns it when discovery starts); it is read on each call.
   */
  clusterId: string | (() => string);
  logger?: Logger;
  clock?: Clock;
  /** When given, owners must be users of this cluster. */
  users?: CatalogUserDirectory;
  /**
   * Told, once the change is committed, that what an entry gives access to or who may see it changed (its
   * spec, visibility or allowed projects) or that it was deleted: the access granted for it should end.
   * A failure is logged; the change stands.
   */
  onAccessChange?(entryId: string, why: 'changed' | 'deleted'): Promise<unknown>;
  /**
   * What this node's compute provider offers (its capacity source and its quota per peer): a compute entry
   * may not offer more, and what it leaves out is taken from here. Without it, a compute entry must state
   * its cores and memory.
   */
  computeOffer?(): Promise<ComputeOffer>;
}

export interface ComputeOffer {
  cores: number;
  memoryMiB: number;
  gpus: number;
  peerQuota: { cores?: number; memoryMiB?: number; gpus?: number } | null;
}

export interface ListEntriesOptions extends SqlQueryOptions {
  kind?: CatalogKind;
  /** Only entries carrying this tag. */
  tag?: string;
  /** At most this many entries (1-500, default 100). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface SearchOptions extends SqlQueryOptions {
  /** Words that must all appear in the name, description or tags (case-insensitive); empty matches all. */
  q?: string;
  kind?: CatalogKind;
  /** At most this many results (1-200, default 50). */
  limit?: number;
}

export interface CatalogPage {
  items: CatalogEntry[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 500;
export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 200;
const MAX_SEARCH_TERMS = 16;
const MAX_QUERY_LENGTH = 500;

interface EntryRow {
  id: string;
  kind: CatalogKind;
  owner_cluster: string;
  name: string;
  description: string;
  tags: string[];
  owners: string[];
  licence: string | null;
  visibility: Visibility;
  allowed_projects: string[];
  spec: unknown;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'e.id, e.kind, e.owner_cluster, e.name, e.description, e.tags, e.owners, e.licence, e.visibility, e.allowed_projects, e.spec, e.created_at, e.updated_at';

/** The JSON path of each zod issue, under `prefix`. */
function issuesOf(error: z.ZodError, prefix?: string): InputIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') return { path, message: `unknown field(s): ${issue.keys.join(', ')}` };
    return { path, message: issue.message };
  });
}

function invalidInput(what: string, issues: InputIssue[]): InvalidInputError {
  return new InvalidInputError(`invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(what, issuesOf(result.error, prefix));
  return result.data;
}

const searchText = (name: string, description: string, tags: readonly string[]) =>
  [name, description, tags.join(' ')].join('\n').toLowerCase();
const likePattern = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Name order: case-insensitive, and the same on every database whatever its locale. */
const NAME_ORDER = `lower(e.name) COLLATE "C", e.id`;

function encodeCursor(row: { sort_name: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.sort_name, row.id])).toString('base64url');
}
function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch {
    // Reported below.
  }
  throw new InvalidInputError('invalid cursor: pass the nextCursor of a previous page', [{ path: 'cursor', message: 'not a cursor of this API' }]);
}

function clampLimit(limit: number | undefined, fallback: number, max: number, field = 'limit'): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidInputError(`invalid ${field}: must be an integer from 1 to ${max}`, [{ path: field, message: `must be an integer from 1 to ${max}` }]);
  }
  return limit;
}

/**
 * This cluster's catalog: entries of four kinds, stored in SQL, each read filtered by what the caller
 * may see (in the query itself). A hidden entry answers exactly like a missing one; changes are for the
 * entry's owners and this cluster's admins.
 */
export function createCatalogService(options: CatalogServiceOptions) {
  const { db, users } = options;
  const currentClusterId = typeof options.clusterId === 'function' ? options.clusterId : () => options.clusterId as string;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;

  const notFound = (id: string) => new NotFoundError(`catalog entry "${id}" not found`);

  async function accessChanged(id: string, why: 'changed' | 'deleted'): Promise<void> {
    try {
      await options.onAccessChange?.(id, why);
    } catch (error) {
      logger.warn('cannot end the access granted for a catalog entry', { id, why, error: describeError(error) });
    }
  }

  /** What the caller is shown: the allowed projects in full only to those who may change the entry. */
  function toEntry(row: EntryRow, caller: CatalogCaller): CatalogEntry {
    const mine = new Set(callerProjects(caller, currentClusterId()));
    return {
      id: row.id,
      kind: row.kind,
      ownerCluster: row.owner_cluster,
      name: row.name,
      description: row.description,
      tags: [...row.tags],
      owners: [...row.owners],
      licence: row.licence,
      visibility: row.visibility,
      allowedProjects: canManage(caller, row.owners) ? [...row.allowed_projects] : row.allowed_projects.filter((p) => mine.has(p)),
      spec: row.spec,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    } as CatalogEntry;
  }

  async function visibleRow(
    executor: SqlExecutor,
    caller: CatalogCaller,
    id: string,
    options: SqlQueryOptions & { forUpdate?: boolean } = {},
  ): Promise<EntryRow> {
    const params = new SqlParams();
    const idParam = params.add(id);
    const { rows } = await executor.query<EntryRow>(
      `SELECT ${COLUMNS} FROM catalog_entries e
        WHERE e.id = ${idParam} AND ${visibilityCondition(caller, currentClusterId(), params)}${options.forUpdate ? ' FOR UPDATE' : ''}`,
      params.values,
      { signal: options.signal },
    );
    if (!rows[0]) throw notFound(id);
    return rows[0];
  }

  function requireManager(caller: CatalogCaller, row: EntryRow, action: string) {
    if (!canManage(caller, row.owners)) {
      throw new NotAllowedError(`only the owners of catalog entry "${row.id}" and cluster administrators may ${action} it`);
    }
  }

  /** The kind's spec, validated; a service's CWL tool is loaded and its inputs and outputs derived. */
  async function validSpec(kind: CatalogKind, spec: unknown): Promise<unknown> {
    const parsed = parse(SPEC_SCHEMAS[kind], spec, `${kind} spec`, 'spec');
    if (kind === 'compute') return computeSpec(parsed as ComputeSpecInput);
    if (kind !== 'service') return parsed;
    const service = parsed as { image: string; cwl: string; runsOnOwner?: boolean };
    return { image: service.image, cwl: service.cwl, ...(service.runsOnOwner ? { runsOnOwner: true } : {}), ...(await loadServiceTool(service.cwl)) };
  }

  /** A compute spec made whole from the node's offer, and checked against it. */
  async function computeSpec(input: ComputeSpecInput): Promise<ComputeSpec> {
    const offer = await options.computeOffer?.();
    const issues: InputIssue[] = [];
    const resources = ['cores', 'memoryMiB', 'gpus'] as const;
    const spec = {} as Record<(typeof resources)[number], number>;
    for (const key of resources) {
      const given = input[key];
      if (given === undefined && offer === undefined && key !== 'gpus') {
        issues.push({ path: `spec.${key}`, message: 'required: this node has no compute provider to take it from' });
      } else if (given !== undefined && offer !== undefined && given > offer[key]) {
        issues.push({ path: `spec.${key}`, message: `must not exceed what this node offers (${offer[key]})` });
      }
      spec[key] = given ?? offer?.[key] ?? 0;
    }
    // The node's quota, when the entry gives none, within what the entry offers.
    const nodeQuota = offer?.peerQuota
      ? Object.fromEntries(Object.entries(offer.peerQuota).map(([key, value]) => [key, Math.min(value, spec[key as keyof typeof spec])]))
      : undefined;
    const perPeerQuota = input.perPeerQuota ?? nodeQuota;
    for (const key of resources) {
      const quota = perPeerQuota?.[key];
      if (quota !== undefined && quota > spec[key]) {
        issues.push({ path: `spec.perPeerQuota.${key}`, message: `must not exceed the capacity offered (${spec[key]})` });
      }
    }
    if (issues.length) throw new InvalidInputError(`invalid compute spec: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
    return { ...spec, ...(perPeerQuota && Object.keys(perPeerQuota).length ? { perPeerQuota } : {}) };
  }

  /** The rules between fields: allowed projects only for `restricted`, owners known, the caller kept among them. */
  async function checkFields(
    caller: CatalogCaller & { kind: 'local' },
    fields: { visibility: Visibility; allowedProjects: readonly string[]; owners: readonly string[] },
    ownersGiven: boolean,
  ) {
    const issues: InputIssue[] = [];
    if (fields.visibility !== 'restricted' && fields.allowedProjects.length) {
      issues.push({ path: 'allowedProjects', message: 'only a restricted entry has allowed projects' });
    }
    if (ownersGiven && !caller.isAdmin && !fields.owners.includes(caller.userName)) {
      issues.push({ path: 'owners', message: `must include you ("${caller.userName}"): only an administrator can hand an entry over` });
    }
    if (ownersGiven && users) {
      const known = new Set(await users.existingUserNames(fields.owners));
      fields.owners.forEach((owner, i) => {
        if (!known.has(owner)) issues.push({ path: `owners.${i}`, message: `no user "${owner}" on this cluster` });
      });
    }
    if (issues.length) throw invalidInput('catalog entry', issues);
  }

  function requireLocal(caller: CatalogCaller, action: string): asserts caller is CatalogCaller & { kind: 'local' } {
    if (caller.kind !== 'local') throw new NotAllowedError(`only users of this cluster may ${action} its catalog entries`);
  }

  return {
    /** This cluster's id. */
    clusterId: currentClusterId,

    async create(caller: CatalogCaller, input: NewCatalogEntry, options: SqlQueryOptions = {}): Promise<CatalogEntry> {
      requireLocal(caller, 'create');
      const entry = parse(NewEntrySchema, input, 'catalog entry');
      const fields = {
        visibility: entry.visibility ?? 'private',
        allowedProjects: [...new Set(entry.allowedProjects ?? [])],
        owners: [...new Set(entry.owners ?? [caller.userName])],
      };
      await checkFields(caller, fields, entry.owners !== undefined);
      const spec = await validSpec(entry.kind, entry.spec);
      const tags = [...new Set(entry.tags ?? [])];
      const description = entry.description ?? '';
      const now = clock.now();
      const { rows } = await db.query<EntryRow>(
        `INSERT INTO catalog_entries AS e (id, kind, owner_cluster, name, description, tags, owners, licence, visibility,
                                           allowed_projects, spec, search_text, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7::text[], $8, $9, $10::text[], $11::jsonb, $12, $13, $13)
         RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          entry.kind,
          currentClusterId(),
          entry.name,
          description,
          tags,
          fields.owners,
          entry.licence ?? null,
          fields.visibility,
          fields.allowedProjects,
          JSON.stringify(spec),
          searchText(entry.name, description, tags),
          now,
        ],
        options,
      );
      const row = rows[0]!;
      logger.info('catalog entry created', { id: row.id, kind: row.kind, visibility: row.visibility, by: caller.userName });
      return toEntry(row, caller);
    },

    async get(caller: CatalogCaller, id: string, options: SqlQueryOptions = {}): Promise<CatalogEntry> {
      return toEntry(await visibleRow(db, caller, id, options), caller);
    },

    /**
     * Changes the given fields (PATCH semantics). A new `spec` replaces the old one and is validated for
     * the entry's kind; making an entry other than restricted drops its allowed projects.
     */
    async update(caller: CatalogCaller, id: string, input: CatalogEntryChange, options: SqlQueryOptions = {}): Promise<CatalogEntry> {
      const change = parse(EntryChangeSchema, input, 'catalog entry change');
      const current = await visibleRow(db, caller, id, options);
      requireManager(caller, current, 'change');
      requireLocal(caller, 'change');
      // Loading a CWL tool takes a while: done before the row is locked (the kind never changes).
      const spec = change.spec === undefined ? undefined : await validSpec(current.kind, change.spec);

      const { row, before } = await db.transaction(async (tx) => {
        const locked = await visibleRow(tx, caller, id, { ...options, forUpdate: true });
        requireManager(caller, locked, 'change');
        const visibility = change.visibility ?? locked.visibility;
        const fields = {
          visibility,
          allowedProjects: [...new Set(change.allowedProjects ?? (visibility === 'restricted' ? locked.allowed_projects : []))],
          owners: [...new Set(change.owners ?? locked.owners)],
        };
        await checkFields(caller, fields, change.owners !== undefined);
        const name = change.name ?? locked.name;
        const description = change.description ?? locked.description;
        const tags = change.tags ? [...new Set(change.tags)] : locked.tags;
        const licence = change.licence === undefined ? locked.licence : change.licence;
        const { rows } = await tx.query<EntryRow>(
          `UPDATE catalog_entries AS e
              SET name = $2, description = $3, tags = $4::text[], owners = $5::text[], licence = $6, visibility = $7,
                  allowed_projects = $8::text[], spec = $9::jsonb, search_text = $10, updated_at = $11
            WHERE e.id = $1 RETURNING ${COLUMNS}`,
          [
            id,
            name,
            description,
            tags,
            fields.owners,
            licence,
            visibility,
            fields.allowedProjects,
            JSON.stringify(spec ?? locked.spec),
            searchText(name, description, tags),
            clock.now(),
          ],
        );
        return { row: rows[0]!, before: locked };
      }, options);
      logger.info('catalog entry changed', { id, fields: Object.keys(change), by: caller.userName });
      const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
      if (row.visibility !== before.visibility || !same(row.allowed_projects, before.allowed_projects) || !same(row.spec, before.spec)) {
        await accessChanged(id, 'changed');
      }
      return toEntry(row, caller);
    },

    async delete(caller: CatalogCaller, id: string, options: SqlQueryOptions = {}): Promise<void> {
      const current = await visibleRow(db, caller, id, options);
      requireManager(caller, current, 'delete');
      requireLocal(caller, 'delete');
      const { rowCount } = await db.query(`DELETE FROM catalog_entries WHERE id = $1`, [id], options);
      if (rowCount === 0) throw notFound(id);
      logger.info('catalog entry deleted', { id, by: caller.userName });
      await accessChanged(id, 'deleted');
    },

    /** This cluster's entries the caller may see, by name, a page at a time. */
    async list(caller: CatalogCaller, options: ListEntriesOptions = {}): Promise<CatalogPage> {
      const limit = clampLimit(options.limit, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
      const params = new SqlParams();
      const where = [visibilityCondition(caller, currentClusterId(), params)];
      if (options.kind) where.push(`e.kind = ${params.add(options.kind)}`);
      if (options.tag) where.push(`e.tags @> ARRAY[${params.add(options.tag)}::text]`);
      if (options.cursor) {
        const [name, id] = decodeCursor(options.cursor);
        where.push(`(lower(e.name) COLLATE "C", e.id) > (${params.add(name)}::text COLLATE "C", ${params.add(id)}::text)`);
      }
      const { rows } = await db.query<EntryRow & { sort_name: string }>(
        `SELECT ${COLUMNS}, lower(e.name) AS sort_name FROM catalog_entries e WHERE ${where.join(' AND ')} ORDER BY ${NAME_ORDER} LIMIT ${params.add(limit + 1)}`,
        params.values,
        { signal: options.signal },
      );
      const page = rows.slice(0, limit);
      return { items: page.map((r) => toEntry(r, caller)), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null };
    },

    /**
     * Entries the caller may see whose name, description or tags contain every word of `q`
     * (case-insensitive substrings), best first: an exact name, then a name starting with the query.
     */
    async search(caller: CatalogCaller, options: SearchOptions = {}): Promise<CatalogEntry[]> {
      const limit = clampLimit(options.limit, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
      const q = (options.q ?? '').trim().toLowerCase();
      if (q.length > MAX_QUERY_LENGTH) {
        throw new InvalidInputError(`invalid search: q is longer than ${MAX_QUERY_LENGTH} characters`, [{ path: 'q', message: `at most ${MAX_QUERY_LENGTH} characters` }]);
      }
      const terms = [...new Set(q.split(/\s+/).filter(Boolean))];
      if (terms.length > MAX_SEARCH_TERMS) {
        throw new InvalidInputError(`invalid search: more than ${MAX_SEARCH_TERMS} words`, [{ path: 'q', message: `at most ${MAX_SEARCH_TERMS} words` }]);
      }
      const params = new SqlParams();
      const where = [visibilityCondition(caller, currentClusterId(), params)];
      if (options.kind) where.push(`e.kind = ${params.add(options.kind)}`);
      for (const term of terms) where.push(`e.search_text LIKE ${params.add(likePattern(term))} ESCAPE '\\'`);
      // search_text starts with the lower-cased name and a newline (names hold no control characters).
      const phrase = terms.join(' ');
      const prefix = `${likePattern(phrase).slice(1, -1)}`;
      const order = phrase
        ? `(e.search_text LIKE ${params.add(`${prefix}\n%`)} ESCAPE '\\') DESC, (e.search_text LIKE ${params.add(`${prefix}%`)} ESCAPE '\\') DESC, `
        : '';
      const { rows } = await db.query<EntryRow>(
        `SELECT ${COLUMNS} FROM catalog_entries e WHERE ${where.join(' AND ')}
          ORDER BY ${order}${NAME_ORDER} LIMIT ${params.add(limit)}`,
        params.values,
        { signal: options.signal },
      );
      return rows.map((r) => toEntry(r, caller));
    },

    /**
     * The most peer cluster `clusterId` may hold of this node's compute at once, as its compute entries
     * offer it: per resource, the largest per-peer amount (the entry's `perPeerQuota`, else what it offers)
     * among the compute entries that cluster's users see without naming a project (the public ones; a
     * compute request carries no projects). `null` when this cluster has compute entries and that peer sees
     * none of them: it is offered nothing. `{}` (no bound beyond the node's capacity and quota) while this
     * cluster has no compute entry at all, so that a node which never wrote one shares as before.
     */
    async computeOfferedTo(clusterId: string, options: SqlQueryOptions = {}): Promise<{ cores?: number; memoryMiB?: number; gpus?: number } | null> {
      const caller: CatalogCaller = { kind: 'remote', cluster: clusterId, user: '-', projects: [] };
      const params = new SqlParams();
      const visible = visibilityCondition(caller, currentClusterId(), params);
      const { rows } = await db.query<{ spec: ComputeSpec | string; visible: boolean }>(
        `SELECT e.spec, ${visible} AS visible FROM catalog_entries e WHERE e.kind = 'compute'`,
        params.values,
        { signal: options.signal },
      );
      if (!rows.length) return {};
      const specs = rows.filter((r) => r.visible).map((r) => (typeof r.spec === 'string' ? (JSON.parse(r.spec) as ComputeSpec) : r.spec));
      if (!specs.length) return null;
      const offer: { cores: number; memoryMiB: number; gpus: number } = { cores: 0, memoryMiB: 0, gpus: 0 };
      for (const spec of specs) {
        for (const key of ['cores', 'memoryMiB', 'gpus'] as const) {
          offer[key] = Math.max(offer[key], spec.perPeerQuota?.[key] ?? spec[key] ?? 0);
        }
      }
      return offer;
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
