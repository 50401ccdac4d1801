import type { CatalogCaller } from './catalog-entry.ts';

/** Positional parameters of one statement, added as the SQL text is built. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The projects a caller may act for here: only those of its own cluster. A peer cannot claim a project of
 * another cluster (nor of this one) for its users.
 */
export function callerProjects(caller: CatalogCaller, clusterId: string): string[] {
  const cluster = caller.kind === 'local' ? clusterId : caller.cluster;
  return [...new Set(caller.projects.filter((p) => p.startsWith(`${cluster}/`)))];
}

/** Whether the caller may change entries of this cluster it can see: local owners and admins. */
export function canManage(caller: CatalogCaller, owners: readonly string[]): boolean {
  return caller.kind === 'local' && (caller.isAdmin || owners.includes(caller.userName));
}

/**
 * The visibility rules as one SQL condition over `catalog_entries` (aliased `alias`), so that the database
 * returns only what the caller may see (Backstage's approach: the filter is pushed down, never applied to
 * rows after the fact):
 * - public: everyone;
 * - private: callers of this cluster;
 * - restricted: callers acting for one of the allowed projects;
 * - this cluster's admins and the entry's owners: everything they administer or own.
 */
export function visibilityCondition(caller: CatalogCaller, clusterId: string, params: SqlParams, alias = 'e'): string {
  if (caller.kind === 'local' && caller.isAdmin) return 'TRUE';
  const projects = params.add(callerProjects(caller, clusterId));
  const restricted = `(${alias}.visibility = 'restricted' AND ${alias}.allowed_projects && ${projects}::text[])`;
  if (caller.kind === 'remote') return `(${alias}.visibility = 'public' OR ${restricted})`;
  const user = params.add(caller.userName);
  return `(${alias}.visibility IN ('public', 'private') OR ${restricted} OR ${user} = ANY(${alias}.owners))`;
}
