import { randomUUID } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, NotImplementedError } from '../../core/index.ts';
import { createPostgresGrantProvider, postgresGrantNames } from './postgres-grant-provider.ts';
import type { GrantProvider } from './grant-provider.ts';
import type { GrantTarget } from './grant-target.ts';

const url = process.env.DATABASE_URL;
const grantee = { cluster: 'local', user: 'alice' };

/** Connects as `user` (this machine trusts local connections: privileges are what is tested, not passwords). */
async function connectAs(connectionString: string): Promise<Client> {
  const client = new Client({ connectionString });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a failure, got a result');
}

describe.skipIf(!url)('PostgreSQL data grants (needs DATABASE_URL: a real server, roles are cluster-wide)', () => {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
  const dataSchema = `grant_data_${suffix}`;
  const grantSchema = `grant_views_${suffix}`;
  let admin: Client;
  let provider: GrantProvider;
  const made: string[] = [];

  beforeAll(async () => {
    admin = await connectAs(url!);
    await admin.query(`CREATE SCHEMA ${dataSchema}`);
    await admin.query(`CREATE TABLE ${dataSchema}.samples (id int, site text, secret text)`);
    await admin.query(`INSERT INTO ${dataSchema}.samples VALUES (1, 'brest', 'x'), (2, 'nantes', 'y'), (3, 'brest', 'z')`);
    await admin.query(`CREATE TABLE ${dataSchema}.other (v int)`);
    provider = createPostgresGrantProvider({ adminUrl: url!, schema: grantSchema, connectionLimit: 2 });
  });
  afterAll(async () => {
    for (const id of made) await provider.revoke(id, { kind: 'data', source: { type: 'postgresql', table: 'x' } }).catch(() => {});
    await admin.query(`DROP SCHEMA IF EXISTS ${dataSchema} CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS ${grantSchema} CASCADE`);
    await admin.end();
  });

  const grant = async (target: GrantTarget, ttlMs = 3_600_000) => {
    const id = randomUUID();
    made.push(id);
    return { id, access: await provider.grant(id, target, { grantee, expiresAt: new Date(Date.now() + ttlMs) }) };
  };

  it('grants a role that reads its view of a table and nothing else, until revoked', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const id = randomUUID();
    made.push(id);
    const access = await provider.grant(id, { kind: 'data', source: { type: 'postgresql', table: `${dataSchema}.samples` } }, { grantee, expiresAt });
    if (access.type !== 'database-role') throw new Error(`unexpected access ${access.type}`);
    const { role } = postgresGrantNames(id, grantSchema);
    expect(access.user).toBe(role);
    expect(access.view).toBe(`"${grantSchema}"."g_${id.replaceAll('-', '')}"`);
    expect(access.password.length).toBeGreaterThanOrEqual(24);
    expect(new URL(access.connectionString).username).toBe(role);

    // The role's attributes: expiry, connection limit, no powers.
    const { rows } = await admin.query(
      'SELECT rolvaliduntil, rolconnlimit, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolinherit FROM pg_roles WHERE rolname = $1',
      [role],
    );
    expect(rows[0]).toMatchObject({ rolconnlimit: 2, rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolinherit: false });
    expect(Math.abs((rows[0].rolvaliduntil as Date).getTime() - expiresAt.getTime())).toBeLessThan(1000);

    const client = await connectAs(access.connectionString);
    try {
      const read = await client.query(`SELECT id, site FROM ${access.view} ORDER BY id`);
      expect(read.rows).toEqual([
        { id: 1, site: 'brest' },
        { id: 2, site: 'nantes' },
        { id: 3, site: 'brest' },
      ]);
      expect((await failure(client.query(`SELECT * FROM ${dataSchema}.samples`))).code).toBe('42501');
      expect((await failure(client.query(`SELECT * FROM ${dataSchema}.other`))).code).toBe('42501');
      // Read-only, even where PUBLIC could write.
      expect((await failure(client.query(`CREATE TABLE ${escapeIdentifier(grantSchema)}.mine (v int)`))).code).toMatch(/^(25006|42501)$/);
      expect((await failure(client.query(`DELETE FROM ${access.view}`))).code).toMatch(/^(25006|42501)$/);
    } finally {
      await client.end();
    }

    // Another grant's role cannot read this grant's view.
    const other = await grant({ kind: 'data', source: { type: 'postgresql', table: `${dataSchema}.other` } });
    if (other.access.type !== 'database-role') throw new Error('unexpected access');
    const otherClient = await connectAs(other.access.connectionString);
    try {
      expect((await failure(otherClient.query(`SELECT * FROM ${access.view}`))).code).toBe('42501');
    } finally {
      await otherClient.end();
    }

    // Revoking ends open sessions, drops the role and the view; a second revoke is harmless.
    const open = await connectAs(access.connectionString);
    const ended = new Promise<void>((resolve) => open.on('end', () => resolve()));
    await provider.revoke(id, { kind: 'data', source: { type: 'postgresql', table: `${dataSchema}.samples` } });
    await ended;
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount).toBe(0);
    expect((await admin.query('SELECT to_regclass($1) AS view', [access.view])).rows[0].view).toBeNull();
    const refused = await failure(connectAs(access.connectionString));
    expect(refused.message).toMatch(/does not exist/);
    await provider.revoke(id, { kind: 'data', source: { type: 'postgresql', table: `${dataSchema}.samples` } });
    // The base table is untouched.
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${dataSchema}.samples`)).rows[0].n).toBe(3);
  });

  it('grants a view of a single SELECT query', async () => {
    const { access } = await grant({
      kind: 'data',
      source: { type: 'postgresql', query: `SELECT id FROM ${dataSchema}.samples WHERE site = 'brest';` },
    });
    if (access.type !== 'database-role') throw new Error('unexpected access');
    const client = await connectAs(access.connectionString);
    try {
      expect((await client.query(`SELECT id FROM ${access.view} ORDER BY id`)).rows).toEqual([{ id: 1 }, { id: 3 }]);
      expect((await failure(client.query(`SELECT secret FROM ${dataSchema}.samples`))).code).toBe('42501');
    } finally {
      await client.end();
    }
  });

  it('refuses injection through table names and queries, and leaves nothing behind', async () => {
    const before = (await admin.query(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'archipel_grant_%'`)).rows[0].n;
    const attempts: GrantTarget[] = [
      { kind: 'data', source: { type: 'postgresql', table: `${dataSchema}.samples; DROP TABLE ${dataSchema}.other` } },
      { kind: 'data', source: { type: 'postgresql', table: `"${dataSchema}".samples` } },
      { kind: 'data', source: { type: 'postgresql', query: `SELECT 1; DROP TABLE ${dataSchema}.other` } },
      { kind: 'data', source: { type: 'postgresql', query: `DELETE FROM ${dataSchema}.other RETURNING *` } },
      { kind: 'data', source: { type: 'postgresql', query: `WITH d AS (DELETE FROM ${dataSchema}.other RETURNING *) SELECT * FROM d` } },
      { kind: 'data', source: { type: 'postgresql', table: `${dataSchema}.missing` } },
    ];
    for (const target of attempts) {
      expect(await failure(grant(target))).toBeInstanceOf(InvalidInputError);
    }
    expect((await admin.query(`SELECT to_regclass($1) AS t`, [`${dataSchema}.other`])).rows[0].t).not.toBeNull();
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'archipel_grant_%'`)).rows[0].n).toBe(before);
    expect(await failure(grant({ kind: 'storage', target: { type: 'postgresql', schema: 'out' } }))).toBeInstanceOf(NotImplementedError);
  });

  it('sets the expiry the database enforces (VALID UNTIL)', async () => {
    const { id } = await grant({ kind: 'data', source: { type: 'postgresql', table: `${dataSchema}.samples` } }, 2_000);
    const { rows } = await admin.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [postgresGrantNames(id, grantSchema).role]);
    expect((rows[0].rolvaliduntil as Date).getTime()).toBeLessThanOrEqual(Date.now() + 2_000);
  });
});
