import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotAllowedError, NotFoundError, type SqlDatabase } from '../../core/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import type { CatalogCaller, CatalogEntry, Visibility } from './catalog-entry.ts';
import { createCatalogService, type CatalogService } from './catalog-service.ts';
import { CLUSTER, OTHER, WC_TOOL, dataEntry, local, remote } from './catalog-test-fixtures.ts';
import { ManualClock } from '../../tests/support/manual-clock.ts';


const admin = local('admin', [], true);
const olivia = local('olivia', ['ops']); // owns every entry below
const alice = local('alice', ['genomics']); // member of an allowed project
const bob = local('bob', ['physics']); // member of another project
const remoteAllowed = remote('rita', [`${OTHER}/genomics`]);
const remoteOther = remote('ron', [`${OTHER}/physics`]);
// A peer claiming a project of this cluster for its user: only a peer's own projects count.
const remoteForging = remote('eve', [`${CLUSTER}/genomics`]);

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('catalog service', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let catalog: CatalogService;

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    clock = new ManualClock();
    catalog = createCatalogService({
      db,
      clusterId: CLUSTER,
      clock,
      users: { existingUserNames: async (names) => names.filter((n) => ['admin', 'olivia', 'alice', 'bob', 'carol'].includes(n)) },
    });
  });
  afterEach(() => cleanup());

  it('creates an entry owned by its creator, private by default, and reads it back', async () => {
    const created = await catalog.create(olivia, dataEntry());
    expect(created).toMatchObject({
      kind: 'data',
      ownerCluster: CLUSTER,
      name: 'Sea temperatures',
      tags: ['ocean', 'climate'],
      owners: ['olivia'],
      licence: 'CC-BY-4.0',
      visibility: 'private',
      allowedProjects: [],
      spec: { source: { type: 's3', bucket: 'ocean-data', prefix: 'sst/' }, access: 'presigned-url' },
      createdAt: new Date('2026-11-22T10:00:00Z'),
    });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await catalog.get(olivia, created.id)).toEqual(created);
  });

  describe('visibility', () => {
    const entries = new Map<Visibility, CatalogEntry>();
    beforeEach(async () => {
      entries.clear();
      for (const visibility of ['public', 'private', 'restricted'] as const) {
        entries.set(
          visibility,
          await catalog.create(
            olivia,
            dataEntry({
              name: `${visibility} sea data`,
              visibility,
              ...(visibility === 'restricted' ? { allowedProjects: [`${CLUSTER}/genomics`, `${OTHER}/genomics`] } : {}),
            }),
          ),
        );
      }
    });

    const matrix: [string, CatalogCaller, Record<Visibility, boolean>][] = [
      ['a cluster admin', admin, { public: true, private: true, restricted: true }],
      ['the owner', olivia, { public: true, private: true, restricted: true }],
      ['a member of an allowed project', alice, { public: true, private: true, restricted: true }],
      ['a member of another project', bob, { public: true, private: true, restricted: false }],
      ['a remote caller acting for an allowed project', remoteAllowed, { public: true, private: false, restricted: true }],
      ['a remote caller acting for another project', remoteOther, { public: true, private: false, restricted: false }],
      ["a remote caller claiming this cluster's allowed project", remoteForging, { public: true, private: false, restricted: false }],
    ];

    it.each(matrix)('%s sees exactly what it may, by get, list and search', async (_label, caller, expected) => {
      const missing = await errorOf(catalog.get(caller, '00000000-0000-4000-8000-000000000000'));
      expect(missing).toBeInstanceOf(NotFoundError);
      for (const [visibility, entry] of entries) {
        if (expected[visibility]) {
          expect((await catalog.get(caller, entry.id)).id).toBe(entry.id);
        } else {
          // Hidden answers exactly like missing: the same error class and the same wording.
          const hidden = await errorOf(catalog.get(caller, entry.id));
          expect(hidden).toBeInstanceOf(NotFoundError);
          expect(hidden.message).toBe(`catalog entry "${entry.id}" not found`);
          expect(missing.message).toBe('catalog entry "00000000-0000-4000-8000-000000000000" not found');
        }
      }
      const visible = (['public', 'private', 'restricted'] as const).filter((v) => expected[v]).map((v) => entries.get(v)!.name).sort();
      expect((await catalog.list(caller)).items.map((e) => e.name)).toEqual(visible);
      expect((await catalog.search(caller, { q: 'sea' })).map((e) => e.name).sort()).toEqual(visible);
    });

    it('shows the allowed projects in full only to those who may change the entry', async () => {
      const restricted = entries.get('restricted')!;
      expect((await catalog.get(olivia, restricted.id)).allowedProjects).toEqual([`${CLUSTER}/genomics`, `${OTHER}/genomics`]);
      expect((await catalog.get(admin, restricted.id)).allowedProjects).toHaveLength(2);
      expect((await catalog.get(alice, restricted.id)).allowedProjects).toEqual([`${CLUSTER}/genomics`]);
      expect((await catalog.get(remoteAllowed, restricted.id)).allowedProjects).toEqual([`${OTHER}/genomics`]);
    });

    it('lets a restricted entry be seen by its owners even without allowed projects', async () => {
      const lonely = await catalog.create(olivia, dataEntry({ name: 'lonely', visibility: 'restricted' }));
      expect((await catalog.get(olivia, lonely.id)).name).toBe('lonely');
      await expect(catalog.get(alice, lonely.id)).rejects.toThrow(NotFoundError);
    });
  });

  describe('validation', () => {
    it('derives a service entry’s inputs and outputs from its CWL tool', async () => {
      const entry = await catalog.create(olivia, {
        kind: 'service',
        name: 'wc',
        spec: { image: 'docker.io/library/debian:12', cwl: WC_TOOL },
      });
      expect(entry.kind).toBe('service');
      if (entry.kind !== 'service') return;
      expect(entry.spec.image).toBe('docker.io/library/debian:12');
      expect(entry.spec.cwl).toBe(WC_TOOL);
      expect(entry.spec.inputs).toEqual([
        { id: 'text', type: 'File', required: true, label: 'Text file', doc: 'The file to count' },
        { id: 'lines', type: ['null', 'boolean'], required: false, default: false },
        { id: 'mode', type: { type: 'enum', symbols: ['fast', 'exact'] }, required: false, default: 'fast' },
      ]);
      expect(entry.spec.outputs).toEqual([{ id: 'counts', type: 'File', required: true, doc: 'What wc printed' }]);
    });

    it('names the field and line of a bad CWL tool', async () => {
      const bad = WC_TOOL.replace('type: File\n    label', 'type: Fiel\n    label');
      const error = await errorOf(catalog.create(olivia, { kind: 'service', name: 'wc', spec: { image: 'debian:12', cwl: bad } }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toMatch(/^spec\.cwl/);
      expect(error.message).toContain('Fiel');
      expect(error.message).not.toContain('archipel-catalog-'); // no temporary file names
      const issue = (error as InvalidInputError).issues[0]!;
      expect(issue.path).toMatch(/^spec\.cwl:inputs/);
      expect(issue.line).toBe(7);
    });

    it.each([
      ['not YAML', 'class: CommandLineTool\ninputs: [unclosed', /not valid YAML/],
      ['a workflow', WC_TOOL.replace('class: CommandLineTool', 'class: Workflow'), /must be a CommandLineTool, got "Workflow"/],
      ['an $include of a node file', WC_TOOL.replace('doc: The file to count', 'doc: {$include: /etc/passwd}'), /\$include is not allowed/],
      ['an $import', WC_TOOL.replace('baseCommand: wc', 'baseCommand: {$import: other.yml}'), /\$import is not allowed/],
      ['a packed document', '$graph: []\ncwlVersion: v1.2', /packed/],
      ['a missing baseCommand and wrong field', WC_TOOL.replace('baseCommand: wc', 'baseComand: wc'), /baseComand/],
    ])('refuses a service whose CWL is %s', async (_label, cwl, message) => {
      const error = await errorOf(catalog.create(olivia, { kind: 'service', name: 'x', spec: { image: 'debian:12', cwl } }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toMatch(message);
      expect(await catalog.list(admin)).toEqual({ items: [], nextCursor: null });
    });

    it('stops a YAML alias bomb before it expands', async () => {
      const bomb = ['class: CommandLineTool', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 8; i++) bomb.push(`${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10).fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`).join(', ')}]`);
      const error = await errorOf(catalog.create(olivia, { kind: 'service', name: 'x', spec: { image: 'debian:12', cwl: bomb.join('\n') } }));
      expect(error.message).toMatch(/expands to more than 50000 values/);
    });

    it.each([
      ['a bad image', { kind: 'service', name: 'x', spec: { image: 'Not An Image!', cwl: WC_TOOL } }, 'spec.image'],
      ['a relative directory', dataEntry({ spec: { source: { type: 'directory', path: 'data/../etc' } } }), 'spec.source.path'],
      ['a bad bucket', dataEntry({ spec: { source: { type: 's3', bucket: 'No_Such' } } }), 'spec.source.bucket'],
      ['a table and a query', dataEntry({ spec: { source: { type: 'postgresql', table: 't', query: 'select 1' } } }), 'spec.source.table'],
      ['a write query', dataEntry({ spec: { source: { type: 'postgresql', query: 'DELETE FROM t' } } }), 'spec.source.query'],
      ['two statements', dataEntry({ spec: { source: { type: 'postgresql', query: 'select 1; drop table t' } } }), 'spec.source.query'],
      ['a mismatched access', dataEntry({ spec: { source: { type: 'directory', path: '/srv/data' }, access: 'presigned-url' } }), 'spec.access'],
      ['an unknown source type', dataEntry({ spec: { source: { type: 'ftp', host: 'x' } } } as never), 'spec.source.type'],
      ['an unknown spec field', dataEntry({ spec: { source: { type: 's3', bucket: 'abc' }, colour: 'red' } } as never), 'spec'],
      ['a bad storage schema', { kind: 'storage', name: 'x', spec: { target: { type: 'postgresql', schema: 'a; drop' } } }, 'spec.target.schema'],
      ['no memory', { kind: 'compute', name: 'x', spec: { cores: 4 } }, 'spec.memoryMiB'],
      ['a quota over capacity', { kind: 'compute', name: 'x', spec: { cores: 4, memoryMiB: 1024, perPeerQuota: { cores: 8 } } }, 'spec.perPeerQuota.cores'],
      ['an empty name', dataEntry({ name: '  ' }), 'name'],
      ['a line break in the name', dataEntry({ name: 'two\nlines' }), 'name'],
      ['a bad tag', dataEntry({ tags: ['Not A Tag'] }), 'tags.0'],
      ['a bad project id', dataEntry({ visibility: 'restricted', allowedProjects: ['genomics'] }), 'allowedProjects.0'],
      ['allowed projects on a public entry', dataEntry({ visibility: 'public', allowedProjects: [`${CLUSTER}/genomics`] }), 'allowedProjects'],
      ['an unknown owner', dataEntry({ owners: ['olivia', 'nobody'] }), 'owners.1'],
      ['owners without the creator', dataEntry({ owners: ['alice'] }), 'owners'],
      ['an unknown kind', { kind: 'robot', name: 'x', spec: {} }, 'kind'],
    ])('names the bad field: %s', async (_label, input, path) => {
      const error = await errorOf(catalog.create(olivia, input as never));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues.map((i) => i.path)).toContain(path);
      expect(error.message).toContain(path);
    });

    it('accepts each kind of source and target', async () => {
      const specs = [
        dataEntry({ spec: { source: { type: 'directory', path: '/srv/data' } } }),
        dataEntry({ spec: { source: { type: 'postgresql', table: 'public.measurements' } } }),
        dataEntry({ spec: { source: { type: 'postgresql', query: 'WITH x AS (SELECT 1) SELECT * FROM x;' } } }),
        dataEntry({ spec: { source: { type: 's3', bucket: 'b.c-d', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1' } } }),
        { kind: 'storage', name: 'scratch', spec: { target: { type: 'directory', path: '/srv/scratch' } } },
        { kind: 'storage', name: 'results', spec: { target: { type: 's3', bucket: 'results', prefix: 'runs/' } } },
        { kind: 'storage', name: 'tables', spec: { target: { type: 'postgresql', schema: 'results' } } },
        { kind: 'compute', name: 'cpu', spec: { cores: 7.5, memoryMiB: 16384, perPeerQuota: { cores: 2 } } },
      ];
      const access = [];
      for (const spec of specs) access.push((await catalog.create(olivia, spec as never)).spec);
      expect(access.slice(0, 3).map((s) => (s as { access: string }).access)).toEqual(['read-only-mount', 'database-role', 'database-role']);
      expect(access[7]).toEqual({ cores: 7.5, memoryMiB: 16384, gpus: 0, perPeerQuota: { cores: 2 } });
    });

    it("takes what a compute entry leaves out from the node's compute provider, and offers no more than it", async () => {
      const offering = createCatalogService({
        db,
        clusterId: CLUSTER,
        users: { existingUserNames: async (names) => [...names] },
        computeOffer: async () => ({ cores: 4, memoryMiB: 8192, gpus: 1, peerQuota: { cores: 2 } }),
      });
      const spec = async (given: object) => (await offering.create(olivia, { kind: 'compute', name: 'Cores', spec: given } as never)).spec;
      expect(await spec({})).toEqual({ cores: 4, memoryMiB: 8192, gpus: 1, perPeerQuota: { cores: 2 } });
      expect(await spec({ cores: 1.5, gpus: 0 })).toEqual({ cores: 1.5, memoryMiB: 8192, gpus: 0, perPeerQuota: { cores: 1.5 } });
      expect(await spec({ memoryMiB: 1024, perPeerQuota: { memoryMiB: 512 } })).toEqual({ cores: 4, memoryMiB: 1024, gpus: 1, perPeerQuota: { memoryMiB: 512 } });
      const error = await errorOf(spec({ cores: 8, gpus: 2 }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues).toEqual([
        { path: 'spec.cores', message: 'must not exceed what this node offers (4)' },
        { path: 'spec.gpus', message: 'must not exceed what this node offers (1)' },
      ]);
    });

    it('offers a peer cluster the most that the compute entries it may see offer, and nothing when it sees none', async () => {
      // No compute entry at all: no bound beyond the node's own (a node that never wrote one shares as before).
      expect(await catalog.computeOfferedTo(OTHER)).toEqual({});
      await catalog.create(olivia, { kind: 'compute', name: 'Private', spec: { cores: 6, memoryMiB: 8192 }, visibility: 'private' });
      expect(await catalog.computeOfferedTo(OTHER)).toBeNull();
      await catalog.create(olivia, { kind: 'compute', name: 'One core', spec: { cores: 1, memoryMiB: 2048 }, visibility: 'public' });
      await catalog.create(olivia, { kind: 'compute', name: 'GPU', spec: { cores: 4, memoryMiB: 1024, gpus: 2, perPeerQuota: { cores: 0.5, gpus: 1 } }, visibility: 'public' });
      // Per resource, the largest per-peer amount of a visible entry (its quota, else what it offers).
      expect(await catalog.computeOfferedTo(OTHER)).toEqual({ cores: 1, memoryMiB: 2048, gpus: 1 });
    });

    it('refuses creation by a remote caller', async () => {
      await expect(catalog.create(remoteAllowed, dataEntry())).rejects.toThrow(NotAllowedError);
    });
  });

  describe('changes', () => {
    let entry: CatalogEntry;
    beforeEach(async () => {
      entry = await catalog.create(olivia, dataEntry({ visibility: 'restricted', allowedProjects: [`${CLUSTER}/genomics`] }));
    });

    it('changes only the given fields and re-validates the result', async () => {
      clock.advance(60_000);
      const changed = await catalog.update(olivia, entry.id, { description: 'Now with 2026', tags: ['ocean'] });
      expect(changed).toMatchObject({
        name: 'Sea temperatures',
        description: 'Now with 2026',
        tags: ['ocean'],
        licence: 'CC-BY-4.0',
        visibility: 'restricted',
        allowedProjects: [`${CLUSTER}/genomics`],
        createdAt: entry.createdAt,
        updatedAt: new Date('2026-11-22T10:01:00Z'),
      });
      expect(await catalog.update(olivia, entry.id, { licence: null })).toMatchObject({ licence: null });
      await expect(catalog.update(olivia, entry.id, { spec: { source: { type: 's3', bucket: 'X' } } })).rejects.toThrow(/spec\.source\.bucket/);
      await expect(catalog.update(olivia, entry.id, { kind: 'compute' } as never)).rejects.toThrow(/unknown field\(s\): kind/);
      expect((await catalog.get(olivia, entry.id)).description).toBe('Now with 2026');
    });

    it('replaces the spec, validated for the entry’s kind', async () => {
      const changed = await catalog.update(olivia, entry.id, { spec: { source: { type: 'directory', path: '/srv/sst' } } });
      expect(changed.spec).toEqual({ source: { type: 'directory', path: '/srv/sst' }, access: 'read-only-mount' });
      await expect(catalog.update(olivia, entry.id, { spec: { cores: 4, memoryMiB: 10 } })).rejects.toThrow(InvalidInputError);
    });

    it('drops the allowed projects when the entry stops being restricted', async () => {
      const opened = await catalog.update(olivia, entry.id, { visibility: 'public' });
      expect(opened.allowedProjects).toEqual([]);
      await expect(catalog.update(olivia, entry.id, { allowedProjects: [`${CLUSTER}/x`] })).rejects.toThrow(/allowedProjects/);
    });

    it('lets owners and admins change and delete; others get forbidden if they see it, not found if they do not', async () => {
      // alice sees it (allowed project) but does not own it.
      await expect(catalog.update(alice, entry.id, { name: 'mine' })).rejects.toThrow(NotAllowedError);
      await expect(catalog.delete(alice, entry.id)).rejects.toThrow(NotAllowedError);
      // bob and peers do not see it at all.
      for (const caller of [bob, remoteOther]) {
        await expect(catalog.update(caller, entry.id, { name: 'mine' })).rejects.toThrow(new NotFoundError(`catalog entry "${entry.id}" not found`));
        await expect(catalog.delete(caller, entry.id)).rejects.toThrow(new NotFoundError(`catalog entry "${entry.id}" not found`));
      }
      // A peer that may see it still cannot change it.
      await expect(catalog.update(remoteAllowed, entry.id, { name: 'mine' })).rejects.toThrow(NotFoundError);
      const shared = await catalog.update(olivia, entry.id, { allowedProjects: [`${OTHER}/genomics`] });
      expect(shared.allowedProjects).toEqual([`${OTHER}/genomics`]);
      await expect(catalog.update(remoteAllowed, entry.id, { name: 'mine' })).rejects.toThrow(NotAllowedError);

      expect((await catalog.update(admin, entry.id, { owners: ['carol'] })).owners).toEqual(['carol']);
      await expect(catalog.update(olivia, entry.id, { name: 'mine' })).rejects.toThrow(NotFoundError); // no longer owner nor allowed
      await catalog.delete(admin, entry.id);
      await expect(catalog.get(admin, entry.id)).rejects.toThrow(NotFoundError);
    });

    it('keeps an owner among the owners unless an admin hands the entry over', async () => {
      await expect(catalog.update(olivia, entry.id, { owners: ['alice'] })).rejects.toThrow(/owners: must include you/);
      expect((await catalog.update(olivia, entry.id, { owners: ['olivia', 'alice'] })).owners).toEqual(['olivia', 'alice']);
      // alice, now an owner, may change it.
      expect((await catalog.update(alice, entry.id, { name: 'Shared sea' })).name).toBe('Shared sea');
    });
  });

  describe('list and search', () => {
    beforeEach(async () => {
      await catalog.create(olivia, dataEntry({ name: 'Ocean salinity', description: 'PSU at 10 m', tags: ['ocean'], visibility: 'public' }));
      await catalog.create(olivia, dataEntry({ name: 'Sea ice', description: 'Arctic extent', tags: ['ice', 'climate'], visibility: 'public' }));
      await catalog.create(olivia, { kind: 'compute', name: 'Ocean cluster', spec: { cores: 8, memoryMiB: 8192 }, visibility: 'public' });
      await catalog.create(olivia, dataEntry({ name: 'ocean', description: '100% pure_water', tags: ['water'], visibility: 'public' }));
      await catalog.create(olivia, dataEntry({ name: 'Secret ocean', visibility: 'private' }));
    });

    it('matches every word in name, description or tags, case-insensitively, exact names first', async () => {
      const names = async (q: string, kind?: 'data' | 'compute') => (await catalog.search(remoteOther, { q, kind })).map((e) => e.name);
      expect(await names('OCEAN')).toEqual(['ocean', 'Ocean cluster', 'Ocean salinity']);
      expect(await names('ocean', 'compute')).toEqual(['Ocean cluster']);
      expect(await names('arctic CLIMATE')).toEqual(['Sea ice']);
      expect(await names('climate')).toEqual(['Sea ice']);
      expect(await names('ocean ice')).toEqual([]);
      // LIKE wildcards in the query are plain characters.
      expect(await names('100%')).toEqual(['ocean']);
      expect(await names('_')).toEqual(['ocean']);
      expect(await names('%')).toEqual(['ocean']);
      expect((await catalog.search(olivia, { q: 'ocean' })).map((e) => e.name)).toContain('Secret ocean');
      expect(await catalog.search(remoteOther, { q: 'ocean', limit: 1 })).toHaveLength(1);
      await expect(catalog.search(remoteOther, { q: 'x', limit: 1000 })).rejects.toThrow(InvalidInputError);
    });

    it('lists by name a page at a time, filtered by kind and tag', async () => {
      const first = await catalog.list(bob, { limit: 2 });
      expect(first.items.map((e) => e.name)).toEqual(['ocean', 'Ocean cluster']);
      const second = await catalog.list(bob, { limit: 2, cursor: first.nextCursor! });
      expect(second.items.map((e) => e.name)).toEqual(['Ocean salinity', 'Sea ice']);
      const third = await catalog.list(bob, { limit: 2, cursor: second.nextCursor! });
      expect(third).toMatchObject({ items: [{ name: 'Secret ocean' }], nextCursor: null });
      expect((await catalog.list(bob, { kind: 'compute' })).items.map((e) => e.name)).toEqual(['Ocean cluster']);
      expect((await catalog.list(bob, { tag: 'climate' })).items.map((e) => e.name)).toEqual(['Sea ice', 'Secret ocean']);
      await expect(catalog.list(bob, { cursor: 'garbage' })).rejects.toThrow(/invalid cursor/);
    });
  });
});
