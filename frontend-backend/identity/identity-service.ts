import { randomBytes, randomUUID } from 'node:crypto';
import {
  ConflictError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  systemClock,
  type ApiToken,
  type Clock,
  type Logger,
  type Principal,
  type Project,
  type ProjectMember,
  type ProjectRole,
  type SqlDatabase,
  type SqlExecutor,
  type User,
  silentLogger,
} from '../../core/index.ts';
import { generateTokenSecret, hashTokenSecret } from './api-token-secret.ts';
import { createBoundedPasswordHasher, type BoundedPasswordHasherOptions } from './bounded-password-hasher.ts';
import { createLoginThrottle, type LoginThrottlePolicy } from './login-throttle.ts';
import { scryptPasswordHasher, type PasswordHasher } from './password-hash.ts';

export interface IdentityServiceOptions {
  db: SqlDatabase;
  clock?: Clock;
  logger?: Logger;
  /** How long a token from `login` lives. */
  loginTokenTtlMs?: number;
  /** Limits on login attempts, checked before any hash (defaults: `LOGIN_THROTTLE_DEFAULTS`). */
  loginLimits?: Partial<LoginThrottlePolicy>;
  /**
   * How passwords are hashed (scrypt by default) and how many hashes run at once: every hash and check
   * (login, creating a user, changing a password) goes through one bound (2 at once, 32 waiting).
   */
  passwordHashing?: BoundedPasswordHasherOptions & { hasher?: PasswordHasher };
}

/** Where a login attempt comes from. */
export interface LoginOrigin {
  /** The client's address (the TCP peer); attempts without one share one address's limits. */
  clientAddress?: string;
  /** Aborts the attempt while it waits for a password check. */
  signal?: AbortSignal;
}

export interface NewUser {
  name: string;
  password?: string;
  displayName?: string;
  isAdmin?: boolean;
}

export interface NewProject {
  name: string;
  description?: string;
}

export interface NewToken {
  name: string;
  /** Lifetime in seconds; none means the token lasts until deleted. */
  expiresInSeconds?: number;
}

/** A token as created: the only moment its secret is known. */
export interface IssuedToken extends ApiToken {
  token: string;
}

/**
 * Someone an external OpenID Connect provider vouched for, as a sign-in hands them over (see
 * `createExternalLogin`).
 */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
  /**
   * The user name wanted if this is the first sign-in: a valid user name. When another user has it, the new
   * user gets it with a suffix (`-2`, `-3`, ...). Later sign-ins keep the name the user got.
   */
  preferredName: string;
  /** Set on the new user; later sign-ins leave the display name alone. */
  displayName?: string;
  /**
   * The projects the provider's claim names: the user becomes a member of each that exists, and stops being
   * a member of those the claim made them a member of and no longer names. Memberships given by hand are
   * never touched. `null`: no claim is configured, the memberships stay as they are.
   */
  projects: readonly string[] | null;
}

/** What an external sign-in did. */
export interface ExternalLoginResult {
  user: User;
  /** Whether this sign-in created the user. */
  created: boolean;
  /** A session token, as `login` issues. */
  token: IssuedToken;
  projectsAdded: string[];
  projectsRemoved: string[];
}

/** What `createIdentityService` returns. */
export interface IdentityService {
  createUser(actor: Principal, input: NewUser): Promise<User>;
  listUsers(actor: Principal): Promise<User[]>;
  /** The user the actor's token belongs to. */
  currentUser(actor: Principal): Promise<User>;
  /** Users change their own password and display name; cluster admins change anyone's. */
  updateUser(actor: Principal, name: string, change: { password?: string; displayName?: string | null }): Promise<User>;
  createProject(actor: Principal, input: NewProject): Promise<Project>;
  listProjects(actor: Principal): Promise<Project[]>;
  /** Names of the projects a user is a member of (whatever their role): what they act for, e.g. in the catalog. */
  memberProjectNames(userId: string): Promise<string[]>;
  /** The names among `names` that are users of this cluster. */
  existingUserNames(names: readonly string[]): Promise<string[]>;
  listMembers(actor: Principal, projectName: string): Promise<ProjectMember[]>;
  addMember(actor: Principal, projectName: string, member: { user: string; role: ProjectRole }): Promise<ProjectMember>;
  removeMember(actor: Principal, projectName: string, userName: string): Promise<void>;
  createToken(actor: Principal, token: NewToken): Promise<IssuedToken>;
  listTokens(actor: Principal): Promise<ApiToken[]>;
  deleteToken(actor: Principal, tokenId: string): Promise<void>;
  /**
   * Exchanges a user name and password for a token; the same answer for an unknown user and a wrong
   * password. Too many attempts (see `createLoginThrottle`) are refused with a `TooManyRequestsError`
   * before anything is looked up or hashed.
   */
  login(name: string, password: string, origin?: LoginOrigin): Promise<IssuedToken>;
  /**
   * Signs in someone an external provider vouched for: finds their user by issuer and subject (creating it,
   * without a password, on the first sign-in), brings their claim-given project memberships in line with
   * `identity.projects`, and issues a session token like `login`'s.
   */
  loginExternal(identity: ExternalIdentity, options?: { signal?: AbortSignal }): Promise<ExternalLoginResult>;
  /** Resolves a bearer token; unknown, expired and malformed tokens get the same answer. */
  authenticate(secret: string): Promise<Principal>;
  /**
   * On a node's first start (no users yet) creates the `admin` user and an admin token, returned so the
   * caller can hand it to the operator; afterwards returns null. Safe against two nodes sharing a database.
   */
  bootstrapAdmin(): Promise<IssuedToken | null>;
}

export const BOOTSTRAP_ADMIN_NAME = 'admin';
const DEFAULT_LOGIN_TTL_MS = 12 * 60 * 60 * 1000;

interface UserRow {
  id: string;
  name: string;
  display_name: string | null;
  is_admin: boolean;
  created_at: Date;
}
interface ProjectRow {
  id: string;
  name: string;
  description: string;
  created_at: Date;
}
interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}
interface MemberRow {
  project_id: string;
  user_id: string;
  user_name: string;
  role: ProjectRole;
  added_at: Date;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  displayName: r.display_name,
  isAdmin: r.is_admin,
  createdAt: r.created_at,
});
const toProject = (r: ProjectRow): Project => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
});
const toToken = (r: TokenRow): ApiToken => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
});
const toMember = (r: MemberRow): ProjectMember => ({
  projectId: r.project_id,
  userId: r.user_id,
  userName: r.user_name,
  role: r.role,
  addedAt: r.added_at,
});

const USER_COLUMNS = 'id, name, display_name, is_admin, created_at';
const MAX_NAME_LENGTH = 63;
/** How many numbered suffixes a new external user's name tries before a random one. */
const NUMBERED_SUFFIXES = 20;

/** `base` with a suffix, cut so that the whole stays a valid user name (at most 63, ending alphanumeric). */
function suffixedName(base: string, suffix: string): string {
  if (!suffix) return base.slice(0, MAX_NAME_LENGTH).replace(/[._-]+$/, '');
  return `${base.slice(0, MAX_NAME_LENGTH - suffix.length - 1).replace(/[._-]+$/, '')}-${suffix}`;
}

/** Thrown inside a transaction to roll it back when a concurrent first sign-in of the same subject won. */
class LostFirstSignIn extends Error {}
const TOKEN_COLUMNS = 'id, user_id, name, prefix, created_at, expires_at, last_used_at';

/** Renames a unique violation into a message about the thing that already exists. */
async function unique<T>(work: Promise<T>, what: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ConflictError) throw new ConflictError(`${what} already exists`, { cause: error });
    throw error;
  }
}

/**
 * Users, projects with their members, and API tokens, with the rules of who may do what. Every method
 * that acts for someone takes the acting principal; what they may not see answers "not found".
 */
export function createIdentityService(options: IdentityServiceOptions): IdentityService {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const loginTtlMs = options.loginTokenTtlMs ?? DEFAULT_LOGIN_TTL_MS;
  const { hasher = scryptPasswordHasher, ...hashing } = options.passwordHashing ?? {};
  const passwords = createBoundedPasswordHasher(hasher, hashing);
  const throttle = createLoginThrottle({ ...options.loginLimits, clock });
  let decoyHash: Promise<string> | undefined;

  /**
   * A hash of a random password: checking against it costs the same as a real one (no user-name oracle).
   * Shared by concurrent logins, so no one caller's signal may abort it; a failure is not kept.
   */
  const decoy = () => {
    decoyHash ??= passwords.hash(randomBytes(16).toString('hex')).catch((error: unknown) => {
      decoyHash = undefined;
      throw error;
    });
    return decoyHash;
  };

  const requireAdmin = (actor: Principal, action: string) => {
    if (!actor.isAdmin) throw new NotAllowedError(`only cluster administrators may ${action}`);
  };

  async function issueToken(tx: SqlExecutor, userId: string, token: NewToken): Promise<IssuedToken> {
    const { secret, prefix, hash } = generateTokenSecret();
    const now = clock.now();
    const expiresAt = token.expiresInSeconds === undefined ? null : new Date(now.getTime() + token.expiresInSeconds * 1000);
    const { rows } = await tx.query<TokenRow>(
      `INSERT INTO api_tokens (id, user_id, name, prefix, secret_hash, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${TOKEN_COLUMNS}`,
      [randomUUID(), userId, token.name, prefix, hash, now, expiresAt],
    );
    return { ...toToken(rows[0]!), token: secret };
  }

  /** The project if the actor may see it (member or cluster admin), with the actor's role in it. */
  async function visibleProject(actor: Principal, projectName: string): Promise<{ project: Project; role: ProjectRole | null }> {
    const { rows } = await db.query<ProjectRow & { role: ProjectRole | null }>(
      `SELECT p.id, p.name, p.description, p.created_at, m.role
         FROM projects p LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $2
        WHERE p.name = $1`,
      [projectName, actor.userId],
    );
    const row = rows[0];
    if (!row || (row.role === null && !actor.isAdmin)) throw new NotFoundError(`project "${projectName}" not found`);
    return { project: toProject(row), role: row.role };
  }

  async function manageableProject(actor: Principal, projectName: string): Promise<Project> {
    const { project, role } = await visibleProject(actor, projectName);
    if (role !== 'admin' && !actor.isAdmin) {
      throw new NotAllowedError(`only admins of project "${projectName}" may change its members`);
    }
    return project;
  }

  /** A new user without password for a first external sign-in, under the first free name from `base`. */
  async function createExternalUser(tx: SqlExecutor, external: ExternalIdentity, now: Date): Promise<UserRow> {
    const suffixes = [
      '',
      ...Array.from({ length: NUMBERED_SUFFIXES - 1 }, (_, i) => String(i + 2)),
      randomBytes(4).toString('hex'),
    ];
    for (const suffix of suffixes) {
      const { rows } = await tx.query<UserRow>(
        `INSERT INTO users (id, name, display_name, is_admin, created_at) VALUES ($1, $2, $3, false, $4)
         ON CONFLICT (name) DO NOTHING RETURNING ${USER_COLUMNS}`,
        [randomUUID(), suffixedName(external.preferredName, suffix), external.displayName ?? null, now],
      );
      if (rows[0]) return rows[0];
    }
    throw new ConflictError(`no free user name for "${external.preferredName}"`);
  }

  async function signInExternal(tx: SqlExecutor, external: ExternalIdentity): Promise<ExternalLoginResult> {
    const now = clock.now();
    const { rows: found } = await tx.query<UserRow>(
      `UPDATE external_identities e SET last_login_at = $3 FROM users u
        WHERE e.issuer = $1 AND e.subject = $2 AND u.id = e.user_id
        RETURNING u.id, u.name, u.display_name, u.is_admin, u.created_at`,
      [external.issuer, external.subject, now],
    );
    let user = found[0];
    const created = !user;
    if (!user) {
      user = await createExternalUser(tx, external, now);
      const { rowCount } = await tx.query(
        `INSERT INTO external_identities (issuer, subject, user_id, created_at, last_login_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (issuer, subject) DO NOTHING`,
        [external.issuer, external.subject, user.id, now],
      );
      if (rowCount === 0) throw new LostFirstSignIn();
    }
    let projectsAdded: string[] = [];
    let projectsRemoved: string[] = [];
    if (external.projects) {
      const names = [...new Set(external.projects)];
      // Existing memberships (given by hand, or by the claim before) stay as they are: no role changes.
      const added = await tx.query<{ name: string }>(
        `WITH added AS (
           INSERT INTO project_members (project_id, user_id, role, added_at, origin)
           SELECT p.id, $2, 'member', $3, 'claim' FROM projects p WHERE p.name = ANY($1::text[])
           ON CONFLICT (project_id, user_id) DO NOTHING RETURNING project_id)
         SELECT p.name FROM added JOIN projects p ON p.id = added.project_id ORDER BY p.name`,
        [names, user.id, now],
      );
      const removed = await tx.query<{ name: string }>(
        `WITH removed AS (
           DELETE FROM project_members m USING projects p
            WHERE m.user_id = $2 AND m.origin = 'claim' AND p.id = m.project_id AND NOT (p.name = ANY($1::text[]))
           RETURNING p.name)
         SELECT name FROM removed ORDER BY name`,
        [names, user.id],
      );
      projectsAdded = added.rows.map((r) => r.name);
      projectsRemoved = removed.rows.map((r) => r.name);
    }
    const token = await issueToken(tx, user.id, { name: 'login', expiresInSeconds: Math.floor(loginTtlMs / 1000) });
    logger.info(created ? 'user created at first external sign-in' : 'external sign-in', {
      user: user.name,
      issuer: external.issuer,
      ...(projectsAdded.length ? { projectsAdded } : {}),
      ...(projectsRemoved.length ? { projectsRemoved } : {}),
    });
    return { user: toUser(user), created, token, projectsAdded, projectsRemoved };
  }

  return {
    async createUser(actor: Principal, input: NewUser): Promise<User> {
      requireAdmin(actor, 'create users');
      const passwordHash = input.password === undefined ? null : await passwords.hash(input.password);
      const { rows } = await unique(
        db.query<UserRow>(
          `INSERT INTO users (id, name, display_name, password_hash, is_admin, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLUMNS}`,
          [randomUUID(), input.name, input.displayName ?? null, passwordHash, input.isAdmin ?? false, clock.now()],
        ),
        `user "${input.name}"`,
      );
      logger.info('user created', { user: input.name, by: actor.userName });
      return toUser(rows[0]!);
    },

    async listUsers(actor: Principal): Promise<User[]> {
      requireAdmin(actor, 'list users');
      const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`);
      return rows.map(toUser);
    },

    async currentUser(actor: Principal): Promise<User> {
      const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [actor.userId]);
      // A token outlives nothing: deleting a user deletes its tokens (ON DELETE CASCADE).
      if (!rows[0]) throw new NotAuthenticatedError('the token belongs to no user');
      return toUser(rows[0]);
    },

    async updateUser(actor: Principal, name: string, change: { password?: string; displayName?: string | null }): Promise<User> {
      if (!actor.isAdmin && actor.userName !== name) throw new NotAllowedError('only cluster administrators may change other users');
      const passwordHash = change.password === undefined ? undefined : await passwords.hash(change.password);
      const { rows } = await db.query<UserRow>(
        `UPDATE users SET password_hash = COALESCE($2, password_hash),
                          display_name = CASE WHEN $3 THEN $4 ELSE display_name END
          WHERE name = $1 RETURNING ${USER_COLUMNS}`,
        [name, passwordHash ?? null, change.displayName !== undefined, change.displayName ?? null],
      );
      if (!rows[0]) throw new NotFoundError(`user "${name}" not found`);
      return toUser(rows[0]);
    },

    async createProject(actor: Principal, input: NewProject): Promise<Project> {
      return db.transaction(async (tx) => {
        const now = clock.now();
        const { rows } = await unique(
          tx.query<ProjectRow>(
            `INSERT INTO projects (id, name, description, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, name, description, created_at`,
            [randomUUID(), input.name, input.description ?? '', now],
          ),
          `project "${input.name}"`,
        );
        const project = toProject(rows[0]!);
        // The creator administers the project.
        await tx.query(`INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, 'admin', $3)`, [
          project.id,
          actor.userId,
          now,
        ]);
        logger.info('project created', { project: project.name, by: actor.userName });
        return project;
      });
    },

    async listProjects(actor: Principal): Promise<Project[]> {
      const { rows } = actor.isAdmin
        ? await db.query<ProjectRow>(`SELECT id, name, description, created_at FROM projects ORDER BY name`)
        : await db.query<ProjectRow>(
            `SELECT p.id, p.name, p.description, p.created_at FROM projects p
               JOIN project_members m ON m.project_id = p.id AND m.user_id = $1 ORDER BY p.name`,
            [actor.userId],
          );
      return rows.map(toProject);
    },

    async memberProjectNames(userId: string): Promise<string[]> {
      const { rows } = await db.query<{ name: string }>(
        `SELECT p.name FROM projects p JOIN project_members m ON m.project_id = p.id WHERE m.user_id = $1 ORDER BY p.name`,
        [userId],
      );
      return rows.map((r) => r.name);
    },

    async existingUserNames(names: readonly string[]): Promise<string[]> {
      if (!names.length) return [];
      const { rows } = await db.query<{ name: string }>(`SELECT name FROM users WHERE name = ANY($1::text[])`, [[...names]]);
      return rows.map((r) => r.name);
    },

    async listMembers(actor: Principal, projectName: string): Promise<ProjectMember[]> {
      const { project } = await visibleProject(actor, projectName);
      const { rows } = await db.query<MemberRow>(
        `SELECT m.project_id, m.user_id, u.name AS user_name, m.role, m.added_at
           FROM project_members m JOIN users u ON u.id = m.user_id
          WHERE m.project_id = $1 ORDER BY u.name`,
        [project.id],
      );
      return rows.map(toMember);
    },

    async addMember(actor: Principal, projectName: string, member: { user: string; role: ProjectRole }): Promise<ProjectMember> {
      const project = await manageableProject(actor, projectName);
      const { rows: users } = await db.query<{ id: string }>(`SELECT id FROM users WHERE name = $1`, [member.user]);
      const user = users[0];
      if (!user) throw new NotFoundError(`user "${member.user}" not found`);
      const { rows } = await unique(
        db.query<MemberRow>(
          `INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
           RETURNING project_id, user_id, $5::text AS user_name, role, added_at`,
          [project.id, user.id, member.role, clock.now(), member.user],
        ),
        `user "${member.user}" in project "${projectName}"`,
      );
      logger.info('project member added', { project: projectName, user: member.user, role: member.role, by: actor.userName });
      return toMember(rows[0]!);
    },

    async removeMember(actor: Principal, projectName: string, userName: string): Promise<void> {
      const project = await manageableProject(actor, projectName);
      await db.transaction(async (tx) => {
        // Lock the project's member rows so two concurrent removals cannot leave it without an admin.
        const { rows } = await tx.query<{ user_id: string; user_name: string; role: ProjectRole }>(
          `SELECT m.user_id, u.name AS user_name, m.role FROM project_members m JOIN users u ON u.id = m.user_id
            WHERE m.project_id = $1 ORDER BY m.user_id FOR UPDATE OF m`,
          [project.id],
        );
        const target = rows.find((r) => r.user_name === userName);
        if (!target) throw new NotFoundError(`user "${userName}" is not a member of project "${projectName}"`);
        if (target.role === 'admin' && rows.filter((r) => r.role === 'admin').length === 1) {
          throw new ConflictError(`cannot remove the last admin of project "${projectName}"`);
        }
        await tx.query(`DELETE FROM project_members WHERE project_id = $1 AND user_id = $2`, [project.id, target.user_id]);
      });
      logger.info('project member removed', { project: projectName, user: userName, by: actor.userName });
    },

    createToken(actor: Principal, token: NewToken): Promise<IssuedToken> {
      return issueToken(db, actor.userId, token);
    },

    async listTokens(actor: Principal): Promise<ApiToken[]> {
      const { rows } = await db.query<TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id`,
        [actor.userId],
      );
      return rows.map(toToken);
    },

    async deleteToken(actor: Principal, tokenId: string): Promise<void> {
      const { rowCount } = await db.query(`DELETE FROM api_tokens WHERE id = $1 AND (user_id = $2 OR $3)`, [
        tokenId,
        actor.userId,
        actor.isAdmin,
      ]);
      if (rowCount === 0) throw new NotFoundError(`token "${tokenId}" not found`);
    },

    async login(name: string, password: string, origin: LoginOrigin = {}): Promise<IssuedToken> {
      const attempt = throttle.admit(name, origin.clientAddress);
      let row: { id: string; password_hash: string | null } | undefined;
      let ok: boolean;
      try {
        const { rows } = await db.query<{ id: string; password_hash: string | null }>(
          `SELECT id, password_hash FROM users WHERE name = $1`,
          [name],
        );
        row = rows[0];
        ok = await passwords.verify(password, row?.password_hash ?? (await decoy()), origin.signal);
      } catch (error) {
        // Refused as too busy, abandoned, or the database failed: no password was tried.
        attempt.untested();
        throw error;
      }
      if (!row?.password_hash || !ok) {
        attempt.failed();
        throw new NotAuthenticatedError('wrong user name or password');
      }
      attempt.succeeded();
      return issueToken(db, row.id, { name: 'login', expiresInSeconds: Math.floor(loginTtlMs / 1000) });
    },

    async loginExternal(external: ExternalIdentity, options: { signal?: AbortSignal } = {}): Promise<ExternalLoginResult> {
      // A concurrent first sign-in of the same subject makes the second transaction roll back; it then finds the user.
      for (let attempt = 0; ; attempt++) {
        options.signal?.throwIfAborted();
        try {
          return await db.transaction((tx) => signInExternal(tx, external));
        } catch (error) {
          if (!(error instanceof LostFirstSignIn) || attempt > 0) throw error;
        }
      }
    },

    async authenticate(secret: string): Promise<Principal> {
      const now = clock.now();
      const { rows } = await db.query<{ token_id: string; user_id: string; user_name: string; is_admin: boolean }>(
        `UPDATE api_tokens t SET last_used_at = $2 FROM users u
          WHERE t.secret_hash = $1 AND u.id = t.user_id AND (t.expires_at IS NULL OR t.expires_at > $2)
          RETURNING t.id AS token_id, u.id AS user_id, u.name AS user_name, u.is_admin`,
        [hashTokenSecret(secret), now],
      );
      const row = rows[0];
      if (!row) throw new NotAuthenticatedError('invalid or expired token');
      return { userId: row.user_id, userName: row.user_name, isAdmin: row.is_admin, tokenId: row.token_id };
    },

    async bootstrapAdmin(): Promise<IssuedToken | null> {
      return db.transaction(async (tx) => {
        const claimed = await tx.query(
          `INSERT INTO node_settings (key, value) VALUES ('bootstrap-admin', $1) ON CONFLICT (key) DO NOTHING`,
          [clock.now().toISOString()],
        );
        if (claimed.rowCount === 0) return null;
        const userId = randomUUID();
        await tx.query(`INSERT INTO users (id, name, is_admin, created_at) VALUES ($1, $2, true, $3)`, [
          userId,
          BOOTSTRAP_ADMIN_NAME,
          clock.now(),
        ]);
        logger.info('created the bootstrap admin user', { user: BOOTSTRAP_ADMIN_NAME });
        return issueToken(tx, userId, { name: 'bootstrap-admin' });
      });
    },
  };
}
