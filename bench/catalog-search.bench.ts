// Catalog search latency on loopback: local and federated search for one user of cluster 0, with 10,000
// entries in each of 5 clusters, median, p99 and max of each query. Run on purpose (not part of the test
// suite):
//
//   npx tsx bench/catalog-search.bench.ts [--entries 10000] [--clusters 5] [--local 200] [--federated 100] [--warmup 20]
//
// Every cluster is wired as cli/node.ts wires a node: a full discovery agent (libp2p with TCP, Noise,
// Yamux, pnet, identify, ping, kad-dht; production timings; one swarm key; auto peering policy, each pair
// asked to peer once), a catalog service on its own embedded database (PGlite, migrated), and the catalog
// federation serving /archipel/catalog/1.0.0. All clusters run in this one Node process, so the 4 peers'
// searches share one event loop (and one core) where real clusters answer in parallel.
//
// Seeding: the first entries of each cluster (--through-service, default 40) are created through
// `CatalogService.create`; it takes 5-15 ms an entry on PGlite (one autocommitted INSERT each, and a service's
// CWL tool loaded), several minutes for 50,000, so the rest are inserted in SQL, 500 rows a statement,
// into `catalog_entries` as the migration defines it: each generated entry is first validated with the
// service's own schema (`NewEntrySchema`), a service's spec carries the inputs and outputs the service
// derived for the same tool, and `search_text` is computed as the service computes it (checked afterwards
// over every row). The entries are generated from a fixed seed and a small vocabulary: the four kinds,
// 50% public, 30% private, 20% restricted (to projects of any of the clusters), so that the queries match
// very different fractions (a rare word in 10 entries a cluster, a common one in about a quarter).
//
// Local search is `CatalogService.search` as the HTTP route calls it (the caller built by `localCaller`; the
// route also reads the user's project memberships first, one more query, left out here);
// federated search is `CatalogFederation.search`, which the route calls for scope=federation. Both with
// the API's default page size (50).
import '../platform/polyfills.ts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CATALOG_KINDS,
  createCatalogFederation,
  createCatalogService,
  DEFAULT_SEARCH_LIMIT,
  localCaller,
  type CatalogFederation,
  type CatalogKind,
  type CatalogService,
  type LocalCaller,
  type NewCatalogEntry,
  type RemoteCaller,
  type Visibility,
} from '../catalog/index.ts';
import { WC_TOOL } from '../catalog/entries/catalog-test-fixtures.ts';
import { NewEntrySchema } from '../catalog/entries/entry-schemas.ts';
import { silentLogger, type SqlDatabase } from '../core/index.ts';
import { createDiscoveryAgent, generateSwarmKey, type DiscoveryAgent } from '../discovery/index.ts';
import { createSqlResourceStore } from '../platform/resource-store/index.ts';
import { createPgliteTestDatabase } from '../platform/sql/testing.ts';
import { seededRandom } from '../tests/support/seeded-random.ts';

const { values: flags } = parseArgs({
  options: {
    entries: { type: 'string', default: '10000' },
    clusters: { type: 'string', default: '5' },
    local: { type: 'string', default: '200' },
    federated: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '20' },
    'through-service': { type: 'string', default: '40' },
  },
});
const count = (name: keyof typeof flags, min: number) => {
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer of at least ${min}`);
  return n;
};
const ENTRIES = count('entries', 100);
const CLUSTERS = count('clusters', 2);
const LOCAL_RUNS = count('local', 1);
const FEDERATED_RUNS = count('federated', 1);
const WARMUP = count('warmup', 0);
const THROUGH_SERVICE = Math.min(count('through-service', 4), ENTRIES);
const BATCH = 500;
/** Long enough that a loaded machine does not turn a slow answer into a partial result. */
const FEDERATED_TIMEOUT_MS = 10_000;
const DEADLINE_MS = 120_000;

// --- generated entries -----------------------------------------------------------------------------------

// A skewed topic mix: "ocean" is in about a quarter of the entries, "traffic" in 4%.
const TOPICS = [
  ['ocean', 25],
  ['genomics', 15],
  ['climate', 12],
  ['imaging', 10],
  ['astronomy', 8],
  ['seismology', 8],
  ['hydrology', 7],
  ['forestry', 6],
  ['linguistics', 5],
  ['traffic', 4],
] as const;
const MEASURES = ['temperature', 'salinity', 'sequences', 'variants', 'images', 'spectra', 'counts', 'velocities', 'levels', 'samples'];
const FORMS: Record<CatalogKind, string[]> = {
  data: ['dataset', 'archive', 'series', 'catalogue'],
  service: ['pipeline', 'aligner', 'converter', 'model'],
  storage: ['bucket', 'volume', 'scratch space'],
  compute: ['nodes', 'pool', 'partition'],
};
const KINDS = [['data', 40], ['service', 30], ['storage', 15], ['compute', 15]] as const;
const VISIBILITIES = [['public', 50], ['private', 30], ['restricted', 20]] as const;
const REGIONS = ['north atlantic', 'pacific', 'baltic', 'alpine', 'sahel', 'andean', 'arctic', 'mediterranean', 'boreal', 'urban'];
const VERBS = ['Collected from', 'Derived from', 'Curated for', 'Processed for', 'Shared by'];
const EXTRA_TAGS = ['open-data', 'raw', 'curated', 'gpu', 'hpc', 'cc-by:4.0', 'nightly', 'archive', 'qc', 'beta'];
const LICENCES = ['CC-BY-4.0', 'CC0-1.0', 'MIT', 'Apache-2.0', null];
const PROJECTS = ['genomics', 'climate', 'ocean-lab', 'imaging'];
/** In 10 entries of every 10,000. */
const RARE_WORD = 'narwhal';

const capitalised = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The `i`-th entry of a cluster; `clusterIds` name the projects a restricted entry may be shared with. */
function generateEntry(random: ReturnType<typeof seededRandom>, i: number, clusterIds: readonly string[]): NewCatalogEntry {
  const kind = random.weighted(KINDS);
  const topic = random.weighted(TOPICS);
  const measure = random.pick(MEASURES);
  const form = random.pick(FORMS[kind]);
  const region = random.pick(REGIONS);
  const visibility: Visibility = random.weighted(VISIBILITIES);
  const from = 1990 + Math.floor(random.next() * 30);
  const rare = i % 1000 === 7 ? ` Includes ${RARE_WORD} tracking.` : '';
  const tags = [...new Set([topic, measure, random.pick(EXTRA_TAGS), random.pick(EXTRA_TAGS)].slice(0, 2 + Math.floor(random.next() * 3)))];
  const allowedProjects =
    visibility === 'restricted'
      ? [...new Set(Array.from({ length: 1 + Math.floor(random.next() * 3) }, () => `${random.pick(clusterIds)}/${random.pick(PROJECTS)}`))]
      : [];
  const owners = random.next() < 0.05 ? ['alice'] : random.next() < 0.2 ? ['oscar', 'olivia'] : ['olivia'];
  const bucket = `${topic}-${measure}`;
  const spec = {
    data: () =>
      random.weighted([
        [{ source: { type: 's3', bucket, prefix: `${region.replace(' ', '-')}/${i}/` } }, 2],
        [{ source: { type: 'directory', path: `/srv/data/${topic}/${measure}/${i}` } }, 1],
        [{ source: { type: 'postgresql', table: `${topic}.${measure}_${i}` } }, 1],
      ] as const),
    service: () => ({ image: `ghcr.io/${topic}-lab/${measure}-${form}:1.${i % 10}`, cwl: WC_TOOL }),
    storage: () =>
      random.pick([
        { target: { type: 's3', bucket, prefix: `results/${i}/` } },
        { target: { type: 'directory', path: `/srv/results/${topic}/${i}` } },
        { target: { type: 'postgresql', schema: `results_${topic}` } },
      ]),
    compute: () => ({ cores: 8 * (1 + Math.floor(random.next() * 16)), memoryMiB: 32768 * (1 + Math.floor(random.next() * 8)), gpus: random.pick([0, 0, 0, 2, 4]) }),
  }[kind]();
  return {
    kind,
    name: `${capitalised(topic)} ${measure} ${form} ${String(i).padStart(5, '0')}`,
    description: `${capitalised(measure)} ${random.pick(VERBS).toLowerCase()} the ${region} ${topic} ${form}, ${from}-${from + 1 + Math.floor(random.next() * 10)}.${rare}`,
    tags,
    owners,
    licence: random.pick(LICENCES),
    visibility,
    ...(allowedProjects.length ? { allowedProjects } : {}),
    spec,
  } as NewCatalogEntry;
}

/** `search_text` as the catalog service writes it (catalog/entries/catalog-service.ts). */
const searchText = (name: string, description: string, tags: readonly string[]) => [name, description, tags.join(' ')].join('\n').toLowerCase();
/** The same, in SQL: every row must match it. */
const SEARCH_TEXT_SQL = `lower(name || E'\\n' || description || E'\\n' || array_to_string(tags, ' '))`;

const COLUMNS = ['id', 'kind', 'owner_cluster', 'name', 'description', 'tags', 'owners', 'licence', 'visibility', 'allowed_projects', 'spec', 'search_text', 'created_at', 'updated_at'];
const CASTS = ['', '', '', '', '', '::text[]', '::text[]', '', '', '::text[]', '::jsonb', '', '', ''];

/** Inserts validated entries as rows of `catalog_entries`, `BATCH` a statement. */
async function insertRows(db: SqlDatabase, clusterId: string, entries: NewCatalogEntry[], serviceTemplate: Record<string, unknown>) {
  for (let start = 0; start < entries.length; start += BATCH) {
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (const input of entries.slice(start, start + BATCH)) {
      const entry = NewEntrySchema.parse(input);
      const tags = [...new Set(entry.tags ?? [])];
      const description = entry.description ?? '';
      const spec = entry.kind === 'service' ? { ...serviceTemplate, image: entry.spec.image } : entry.spec;
      const now = new Date();
      const row = [
        randomUUID(),
        entry.kind,
        clusterId,
        entry.name,
        description,
        tags,
        [...new Set(entry.owners ?? ['olivia'])],
        entry.licence ?? null,
        entry.visibility ?? 'private',
        [...new Set(entry.allowedProjects ?? [])],
        JSON.stringify(spec),
        searchText(entry.name, description, tags),
        now,
        now,
      ];
      tuples.push(`(${row.map((value, k) => `$${values.push(value)}${CASTS[k]}`).join(', ')})`);
    }
    await db.query(`INSERT INTO catalog_entries (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values);
  }
}

// --- the clusters ----------------------------------------------------------------------------------------

interface Cluster {
  agent: DiscoveryAgent;
  db: SqlDatabase;
  catalog: CatalogService;
  federation: CatalogFederation;
  cleanup(): Promise<void>;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > DEADLINE_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { median: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
};

async function timeRuns(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return samples;
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const thousands = (n: number) => n.toLocaleString('en-US');

interface Query {
  label: string;
  q: string;
  kind?: CatalogKind;
}
const QUERIES: Query[] = [
  { label: `rare word \`${RARE_WORD}\``, q: RARE_WORD },
  { label: 'common word `ocean`', q: 'ocean' },
  { label: 'two words `ocean temperature`', q: 'ocean temperature' },
  { label: '`genomics`, kind=service', q: 'genomics', kind: 'service' },
  { label: 'no words (everything visible)', q: '' },
  { label: 'no match `xylophone`', q: 'xylophone' },
];

const root = mkdtempSync(path.join(tmpdir(), 'archipel-bench-catalog-'));
const swarmKeyFile = path.join(root, 'swarm.key');
writeFileSync(swarmKeyFile, generateSwarmKey());
const clusters: Cluster[] = [];

async function startCluster(i: number, bootstrap: string[]): Promise<Cluster> {
  const { db, cleanup } = await createPgliteTestDatabase();
  const agent = createDiscoveryAgent({
    dataDir: path.join(root, `cluster-${i}`),
    store: createSqlResourceStore({ db }),
    logger: silentLogger,
    name: `cluster-${i}`,
    swarmKeyFile,
    host: '127.0.0.1',
    port: 0,
    bootstrap,
    peeringPolicy: { mode: 'auto' },
  });
  const catalog = createCatalogService({ db, clusterId: () => agent.identity().clusterId });
  const federation = createCatalogFederation({ catalog, network: agent });
  const cluster: Cluster = { agent, db, catalog, federation, cleanup };
  clusters.push(cluster);
  await agent.start();
  await federation.serve();
  return cluster;
}

try {
  // Discovery: cluster 0 first, the others through it; then every pair asks to peer once (auto-approved).
  const first = await startCluster(0, []);
  const bootstrap = [first.agent.identity().multiaddrs[0]!];
  await Promise.all(Array.from({ length: CLUSTERS - 1 }, (_, i) => startCluster(i + 1, bootstrap)));
  const ids = clusters.map((c) => c.agent.identity().clusterId);
  const others = (i: number) => ids.filter((_, j) => j !== i);
  await until(
    () => clusters.every((c, i) => others(i).every((id) => c.agent.listPeers().some((p) => p.clusterId === id && p.connected && p.identity))),
    'every cluster to see every other',
  );
  for (let i = 0; i < CLUSTERS; i++) {
    for (let j = i + 1; j < CLUSTERS; j++) await clusters[i]!.agent.requestPeering(ids[j]!);
  }
  await until(
    () => clusters.every((c, i) => others(i).every((id) => c.agent.isPeered(id))),
    'every pair of clusters to be peered',
  );
  process.stdout.write(`${CLUSTERS} clusters started and peered\n`);

  // Seeding.
  const seeding: { serviceMsEach: number; sqlMs: number; tableBytes: number; databaseBytes: number }[] = [];
  for (const [c, cluster] of clusters.entries()) {
    const random = seededRandom(1000 + c);
    const entries = Array.from({ length: ENTRIES }, (_, i) => generateEntry(random, i, ids));
    // The first entry of each kind goes through the service too, so that there is a service spec to copy.
    const viaService = [...new Set(CATALOG_KINDS.map((kind) => entries.findIndex((e) => e.kind === kind)).filter((i) => i >= 0))];
    for (let i = 0; viaService.length < THROUGH_SERVICE && i < entries.length; i++) if (!viaService.includes(i)) viaService.push(i);
    let serviceTemplate: Record<string, unknown> | undefined;
    const serviceStarted = performance.now();
    for (const i of viaService) {
      const entry = entries[i]!;
      const owner = localCaller({ userId: `id-${entry.owners![0]}`, userName: entry.owners![0]!, isAdmin: false }, ids[c]!, []);
      const created = await cluster.catalog.create(owner, entry);
      if (created.kind === 'service') serviceTemplate ??= created.spec as unknown as Record<string, unknown>;
    }
    const serviceMsEach = (performance.now() - serviceStarted) / viaService.length;
    const sqlStarted = performance.now();
    const chosen = new Set(viaService);
    await insertRows(cluster.db, ids[c]!, entries.filter((_, i) => !chosen.has(i)), serviceTemplate!);
    const sqlMs = performance.now() - sqlStarted;
    const { rows } = await cluster.db.query<{ entries: string; mismatched: string; table_bytes: string; database_bytes: string }>(
      `SELECT count(*) AS entries, count(*) FILTER (WHERE search_text <> ${SEARCH_TEXT_SQL}) AS mismatched,
              pg_total_relation_size('catalog_entries') AS table_bytes, pg_database_size(current_database()) AS database_bytes
         FROM catalog_entries`,
    );
    const row = rows[0]!;
    if (Number(row.entries) !== ENTRIES || Number(row.mismatched) !== 0) throw new Error(`cluster ${c}: seeding went wrong (${JSON.stringify(row)})`);
    seeding.push({ serviceMsEach, sqlMs, tableBytes: Number(row.table_bytes), databaseBytes: Number(row.database_bytes) });
    process.stdout.write(
      `cluster ${c}: ${viaService.length} entries through the service (${ms(serviceMsEach)} ms each), ${thousands(ENTRIES - viaService.length)} in SQL in ${ms(sqlMs)} ms\n`,
    );
  }

  // The caller: alice, a user of cluster 0 (not an admin), member of its projects genomics and climate.
  const alice: LocalCaller = localCaller({ userId: 'id-alice', userName: 'alice', isAdmin: false }, ids[0]!, ['genomics', 'climate']);
  const aliceAbroad = (): RemoteCaller => ({ kind: 'remote', cluster: ids[0]!, user: 'alice', projects: alice.projects });
  const home = clusters[0]!;
  const peers = clusters.slice(1);

  const results: string[] = [];
  for (const query of QUERIES) {
    const options = { q: query.q, ...(query.kind ? { kind: query.kind } : {}) };
    const matching = async (cluster: Cluster) => {
      const terms = query.q.split(/\s+/).filter(Boolean);
      const where = [...terms.map((_, k) => `search_text LIKE $${k + 1}`), ...(query.kind ? [`kind = $${terms.length + 1}`] : [])];
      const { rows } = await cluster.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM catalog_entries${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
        [...terms.map((t) => `%${t}%`), ...(query.kind ? [query.kind] : [])],
      );
      return Number(rows[0]!.n);
    };
    const matches = await matching(home);
    const localCount = (await home.catalog.search(alice, options)).length;
    const federatedResult = await home.federation.search(alice, { ...options, timeoutMs: FEDERATED_TIMEOUT_MS });
    const local = stats(await timeRuns(LOCAL_RUNS, () => home.catalog.search(alice, options)));
    let partial = 0;
    const federated = stats(
      await timeRuns(FEDERATED_RUNS, async () => {
        const result = await home.federation.search(alice, { ...options, timeoutMs: FEDERATED_TIMEOUT_MS });
        if (result.partial) partial++;
      }),
    );
    // What the peers' own searches cost, one after another, without the network: on one event loop the
    // peers cannot answer in parallel, so this is the floor under the federated time.
    const peerSearches = stats(
      await timeRuns(FEDERATED_RUNS, async () => {
        for (const peer of peers) await peer.catalog.search(aliceAbroad(), options);
      }),
    );
    // What one peer sends back (the wire entry is the entry as JSON), averaged over the peers.
    const replies = await Promise.all(peers.map(async (peer) => ({ items: await peer.catalog.search(aliceAbroad(), options), truncated: false })));
    const replyKiB = replies.reduce((sum, reply) => sum + Buffer.byteLength(JSON.stringify(reply)), 0) / peers.length / 1024;
    if (partial) process.stdout.write(`  ${query.label}: ${partial} federated searches were partial\n`);
    results.push(
      `| ${query.label} | ${thousands(matches)} | local | ${localCount} | | ${LOCAL_RUNS} | ${ms(local.median)} | ${ms(local.p99)} | ${ms(local.max)} |`,
      `| | | federated | ${federatedResult.items.length} | ${replyKiB.toFixed(1)} | ${FEDERATED_RUNS} | ${ms(federated.median)} | ${ms(federated.p99)} | ${ms(federated.max)} |`,
      `| | | ${peers.length} peers' searches alone, in sequence | | | ${FEDERATED_RUNS} | ${ms(peerSearches.median)} | ${ms(peerSearches.p99)} | ${ms(peerSearches.max)} |`,
    );
    process.stdout.write(`${query.label}: local ${ms(local.median)} ms, federated ${ms(federated.median)} ms (medians)\n`);
  }

  const total = (pick: (s: (typeof seeding)[number]) => number) => seeding.reduce((sum, s) => sum + pick(s), 0);
  process.stdout.write(
    `\n${CLUSTERS} clusters × ${thousands(ENTRIES)} entries; caller: a user of cluster 0 in 2 of its projects; page size ${DEFAULT_SEARCH_LIMIT}; ` +
      `${WARMUP} warm-up runs per query; times in ms.\n\n` +
      '| query | matching entries on cluster 0 (any visibility) | search | results | KiB per peer reply | runs | median | p99 | max |\n' +
      '|---|---:|---|---:|---:|---:|---:|---:|---:|\n' +
      `${results.join('\n')}\n\n` +
      '| seeding (per cluster, mean) | |\n|---|---:|\n' +
      `| through \`CatalogService.create\`, ms per entry | ${ms(total((s) => s.serviceMsEach) / CLUSTERS)} |\n` +
      `| the other ${thousands(ENTRIES - THROUGH_SERVICE)} in SQL, ${BATCH} rows a statement, s | ${(total((s) => s.sqlMs) / CLUSTERS / 1000).toFixed(2)} |\n` +
      `| \`catalog_entries\` with its indexes, MiB | ${mib(total((s) => s.tableBytes) / CLUSTERS)} |\n` +
      `| whole database, MiB | ${mib(total((s) => s.databaseBytes) / CLUSTERS)} |\n`,
  );
} finally {
  await Promise.allSettled(clusters.map((c) => c.agent.stop()));
  await Promise.allSettled(clusters.map((c) => c.cleanup()));
  rmSync(root, { recursive: true, force: true });
}
