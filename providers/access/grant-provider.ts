import type { GrantTarget } from './grant-target.ts';

/** Who a grant is for: a user of a cluster (this one, or a peer named by its cluster id). */
export interface Grantee {
  cluster: string;
  user: string;
}

export interface GrantOptions {
  grantee: Grantee;
  /** When the access stops working (enforced by the backend where it can: role expiry, URL expiry). */
  expiresAt: Date;
  signal?: AbortSignal;
}

/** A PostgreSQL login role that can read one view and nothing else. */
export interface DatabaseRoleAccess {
  type: 'database-role';
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  user: string;
  password: string;
  /** The view to read, schema-qualified and quoted: `"archipel_grants"."g_..."`. */
  view: string;
}

/** Pre-signed GET URLs, one per object of the granted prefix (or the one object). */
export interface PresignedReadAccess {
  type: 'presigned-read';
  bucket: string;
  prefix: string;
  objects: { key: string; size: number; url: string }[];
  /** More objects than the provider presigns at once were under the prefix. */
  truncated: boolean;
}

/**
 * A prefix of its own for the grant under the storage target, and how to write there: a pre-signed PUT URL
 * for each object name the grantee asked for, or a template to ask for more through the provider.
 */
export interface PresignedWriteAccess {
  type: 'presigned-write';
  bucket: string;
  /** Every key written for this grant starts with it. */
  prefix: string;
  uploads: { name: string; key: string; url: string }[];
}

/** A directory on this machine: read-only (data) or a writable subdirectory of its own (storage). */
export interface DirectoryAccess {
  type: 'directory';
  path: string;
  readOnly: boolean;
  /** How read-only is enforced: a read-only bind mount (kernel, also for root), or file modes. */
  enforcement: 'read-only-mount' | 'file-modes' | 'none';
}

export type GrantAccess = DatabaseRoleAccess | PresignedReadAccess | PresignedWriteAccess | DirectoryAccess;

/**
 * Hands out the narrowest credential that works for one kind of target, with an expiry, and takes it back.
 * `grant` gets the grant id from its caller so that `revoke` can find everything it made from the id
 * alone (names are derived from it): a provider keeps no state of its own.
 */
export interface GrantProvider {
  grant(id: string, target: GrantTarget, options: GrantOptions & { uploads?: readonly string[] }): Promise<GrantAccess>;
  /** Takes the access back. Revoking a grant that was revoked already (or never made) is harmless. */
  revoke(id: string, target: GrantTarget, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Makes again, at start, what an open grant holds that does not outlive the node (a bind mount let go of
   * by `detach`); what is in place already is left as it is.
   */
  restore?(id: string, target: GrantTarget, options?: { signal?: AbortSignal }): Promise<void>;
  /** Lets go, at stop, of what the grants hold that would outlive the node (bind mounts); `restore` makes it again. */
  detach?(): Promise<void>;
}

/** The grant ids providers accept: a UUID, lower case (names derive from it). */
export const GRANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
