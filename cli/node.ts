import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createExternalLogin,
  createIdentityRoutes,
  createIdentityService,
  createOidcClient,
  createPortalRoutes,
  createSignOnRoutes,
  LOGIN_PATH,
  OIDC_CALLBACK_PATH,
  SIGN_ON_PATHS,
  type IdentityService,
  type SignOnRoutesOptions,
} from '../frontend-backend/index.ts';
import { createDiscoveryAgent, type PeeringEndReason } from '../discovery/index.ts';
import { createCatalogFederation, createCatalogRoutes, createCatalogService } from '../catalog/index.ts';
import { catalogServices } from './catalog-services.ts';
import { createDataInputs } from './data-inputs.ts';
import { federationView, peerReservations } from './federation-view.ts';
import { createOutputStorage } from './output-storage.ts';
import { createDiscoveryRoutes } from '../discovery-api/index.ts';
import {
  createAccessFederation,
  createAccessRoutes,
  createComputeFederation,
  createComputeLedger,
  createDirectoryGrantProvider,
  createEntryAccess,
  createGrantRoutes,
  createGrantService,
  createGrantSweeper,
  createKubernetesCapacitySource,
  createMachineCapacitySource,
  createPostgresGrantProvider,
  createProviderRoutes,
  createRemoteComputeRoutes,
  createS3GrantProvider,
  createStaticCapacitySource,
  type CapacitySource,
} from '../providers/index.ts';
import { UnavailableError, describeError, type Logger, type ObjectStore, type ResourceStore, type SqlDatabase, type WorkflowEngine } from '../core/index.ts';
import {
  createArgoClient,
  createArgoEngine,
  createFileRoutes,
  createFileService,
  createLocalEngine,
  createProcessRunner,
  createExecutionRoutes,
  createRunRoutes,
  createExecutionFederation,
  createRunService,
  type ExecutionFederation,
  type RunService,
} from '../orchestrator/index.ts';
import { openStore } from './step-command.ts';

import { createStepRunner } from './step-runner.ts';
import { archipelBin } from './version.ts';
import { API_PREFIX, createHttpApp, serveHttp } from '../platform/http/index.ts';
import { createDirectoryObjectStore, createS3ObjectStore } from '../platform/object-store/index.ts';
import { createKubernetesResourceStore, createSqlResourceStore } from '../platform/resource-store/index.ts';
import { createPgliteDatabase, createPostgresDatabase, migrate } from '../platform/sql/index.ts';
import type { NodeConfig } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { packageVersion } from './version.ts';

export interface RunningNode {
  name: string;
  url: string;
  dataDir: string;
  /** Set on the first start, when the bootstrap admin token was written. */
  adminTokenFile: string | null;
  database: 'pglite' | 'postgresql';
  resourceStore: 'sql' | 'kubernetes';
  /** The cluster id (libp2p peer id) and the multiaddrs other nodes bootstrap from. */
  clusterId: string;
  p2pAddresses: string[];
  /** `sha256:...` of the swarm key, and whether the node generated that key itself. */
  swarmKeyFingerprint: string;
  generatedSwarmKey: boolean;
  stop(): Promise<void>;
}

/** Chooses the SQL adapter: PostgreSQL when a URL is configured, else PGlite in the data directory. */
async function openDatabase(config: NodeConfig, logger: Logger): Promise<SqlDatabase> {
  return config.database.url
    ? createPostgresDatabase({ url: config.database.url, logger })
    : createPgliteDatabase({ dataDir: path.join(config.dataDir, 'db'), logger });
}

/** Chooses the object-store adapter: S3 when a bucket is configured, else a directory in the data directory. */
function openObjectStore(config: NodeConfig): ObjectStore & { close?(): void } {
  const s3 = config.objectStore.s3;
  return s3 ? createS3ObjectStore(s3) : createDirectoryObjectStore({ root: path.join(config.dataDir, 'objects') });
}

/** The URL by which the engine's steps open the node's object store (`archipel step --store`). */
function objectStoreUrl(config: NodeConfig): string {
  const s3 = config.objectStore.s3;
  return s3 ? `s3://${s3.bucket}/${s3.prefix ?? ''}` : pathToFileURL(path.join(config.dataDir, 'objects')).href;
}

/**
 * Chooses the workflow engine: the Argo Workflows server when one is configured (cluster mode), else the
 * local engine on the node's database, whose step containers run in this process on the node's own
 * store, and whose tools run as local processes.
 */
/**
 * Chooses the workflow-engine adapter: an Argo Workflows server when configured, else the local engine
 * in this process, which resumes its runs when it opens and ends its processes when it closes.
 */
async function openWorkflowEngine(
  config: NodeConfig,
  db: SqlDatabase,
  objects: ObjectStore,
  storeUrl: string,
  logger: Logger,
  peers?: Pick<ExecutionFederation, 'placedPods' | 'storeFor'>,
): Promise<{ engine: WorkflowEngine; close?: () => Promise<void> }> {
  const { server, namespace, token } = config.argo;
  if (server) return { engine: createArgoEngine({ client: createArgoClient({ baseUrl: server, namespace, ...(token ? { token } : {}) }) }) };
  const local = createLocalEngine({
    db,
    workRoot: path.join(config.dataDir, 'engine'),
    logger: logger.child({ component: 'engine' }),
    runContainer: createStepRunner(
      createProcessRunner({
        commandMap: { archipel: [process.execPath, archipelBin()] },
        baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
      }),
      // Pods run here for a peer reach their run's objects in the peer's store, over the peering connection.
      { openStore: async (url) => (url === storeUrl ? objects : (peers?.storeFor(url) ?? openStore(url))) },
    ),
    ...(peers ? { placedPods: peers.placedPods } : {}),
  });
  await local.resume();
  return { engine: local, close: () => local.close() };
}

/**
 * Chooses the resource-store adapter: Kubernetes custom resources when a kubeconfig is configured, else
 * rows in the node's SQL database.
 */
function openResourceStore(config: NodeConfig, db: SqlDatabase): ResourceStore {
  const { kubeconfig, namespace } = config.kubernetes;
  return kubeconfig ? createKubernetesResourceStore({ namespace, kubeconfigPath: kubeconfig }) : createSqlResourceStore({ db, namespace });
}

/**
 * Chooses the compute capacity source: this machine (default), a fixed amount, or the allocatable capacity
 * of the Kubernetes nodes, read with the configured kubeconfig or else the pod's service account.
 */
function openCapacitySource(config: NodeConfig): CapacitySource {
  const { source, cores, memoryMiB, gpus, nodeSelector, gpuResources } = config.compute.capacity;
  switch (source) {
    case 'kubernetes': {
      const { kubeconfig } = config.kubernetes;
      return createKubernetesCapacitySource({
        ...(kubeconfig ? { kubeconfigPath: kubeconfig } : { inCluster: true }),
        ...(nodeSelector ? { nodeSelector } : {}),
        ...(gpuResources ? { gpuResources } : {}),
      });
    }
    case 'static':
      // The configuration requires cores and memoryMiB with this source.
      return createStaticCapacitySource({ cores: cores!, memoryMiB: memoryMiB!, gpus: gpus ?? 0 });
    case 'machine':
      return createMachineCapacitySource({ cores, memoryMiB, gpus });
  }
}

/**
 * Chooses single sign-on: through the configured OpenID Connect provider, or none. The redirect URI is the
 * configured one, else the node's own URL (known once it listens) followed by the callback's path.
 */
function openSignOn(
  config: NodeConfig,
  identity: Pick<IdentityService, 'loginExternal'>,
  nodeUrl: () => string | undefined,
  logger: Logger,
): SignOnRoutesOptions['oidc'] {
  const settings = config.oidc;
  if (!settings) return undefined;
  const provider = createOidcClient({
    issuer: settings.issuer,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    redirectUri: () => settings.redirectUri ?? `${nodeUrl()}${API_PREFIX}${OIDC_CALLBACK_PATH}`,
    scopes: settings.scopes,
    // The configuration allows plain http only for a provider on loopback.
    allowInsecureRequests: new URL(settings.issuer).protocol === 'http:',
  });
  const login = createExternalLogin({
    provider,
    identity,
    usernameClaim: settings.usernameClaim,
    ...(settings.projectsClaim ? { projectsClaim: settings.projectsClaim } : {}),
    logger,
  });
  return { displayName: settings.displayName, login };
}

/**
 * The embedded node's composition root: opens each port's adapter, wires the services, serves HTTP, and
 * undoes it all in reverse order on `stop`. Anything that fails half-way is unwound before rethrowing.
 */
export async function startNode(config: NodeConfig, logger: Logger): Promise<RunningNode> {
  const undo: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        logger.warn('error while stopping', { err: error });
      }
    }
  };

  try {
    const lock = lockDataDir(config.dataDir);
    undo.push(() => lock.release());

    const db = await openDatabase(config, logger.child({ component: 'sql' }));
    undo.push(() => db.close());
    const { applied } = await migrate(db, { logger: logger.child({ component: 'migrations' }) });
    if (applied.length) logger.info('database migrated', { applied });

    const objects = openObjectStore(config);
    undo.push(() => objects.close?.());

    const identity = createIdentityService({ db, logger: logger.child({ component: 'identity' }) });
    let adminTokenFile: string | null = null;
    const bootstrap = await identity.bootstrapAdmin();
    if (bootstrap) {
      adminTokenFile = path.join(config.dataDir, 'admin.token');
      writeFileSync(adminTokenFile, `${bootstrap.token}\n`, { mode: 0o600 });
    }

    // The compute offered for reservations (this machine's by default), and what each peer may hold.
    const compute = createComputeLedger({
      db,
      capacity: openCapacitySource(config),
      ...(config.compute.peerQuota ? { peerQuota: config.compute.peerQuota } : {}),
      // A peer holds at most what this cluster's compute entries offer it (called once the catalog is built).
      peerOffer: (clusterId, options) => catalog.computeOfferedTo(clusterId, options),
      logger: logger.child({ component: 'providers' }),
    });

    // Access grants to shared data and storage: directories always; PostgreSQL and S3 when the node
    // has them. Expired grants are revoked by a periodic sweep.
    const grantsLogger = logger.child({ component: 'grants' });
    const s3 = config.objectStore.s3;
    const s3Grants = s3
      ? createS3GrantProvider({
          region: s3.region,
          forcePathStyle: s3.forcePathStyle,
          ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
          ...(s3.accessKeyId && s3.secretAccessKey ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } : {}),
          logger: grantsLogger,
        })
      : undefined;
    if (s3Grants) undo.push(() => s3Grants.close());
    const grants = createGrantService({
      db,
      providers: {
        directory: createDirectoryGrantProvider({ root: path.join(config.dataDir, 'grants'), logger: grantsLogger }),
        ...(config.database.url ? { postgresql: createPostgresGrantProvider({ adminUrl: config.database.url, logger: grantsLogger }) } : {}),
        ...(s3Grants ? { s3: s3Grants } : {}),
      },
      logger: grantsLogger,
    });
    // Open data grants' bind mounts are made again now, and let go of when the node stops.
    await grants.start();
    undo.push(() => grants.stop());
    const grantSweeper = createGrantSweeper({ grants, logger: grantsLogger });
    await grantSweeper.start();
    undo.push(() => grantSweeper.stop());

    // The agent is built now (no I/O) for the routes, and started once the API URL it announces is known.
    const api: { url?: string } = {};
    const discovery = createDiscoveryAgent({
      dataDir: config.dataDir,
      store: openResourceStore(config, db),
      logger: logger.child({ component: 'discovery' }),
      name: config.name,
      apiEndpoint: () => api.url,
      host: config.p2p.host,
      port: config.p2p.port,
      announce: [...config.p2p.announce],
      bootstrap: [...config.p2p.bootstrap],
      peeringPolicy: {
        mode: config.p2p.peeringPolicy.mode,
        ...(config.p2p.peeringPolicy.allowedClusterIds ? { allowedClusterIds: [...config.p2p.peeringPolicy.allowedClusterIds] } : {}),
      },
      ...(config.p2p.swarmKeyFile ? { swarmKeyFile: config.p2p.swarmKeyFile } : {}),
      // A cluster no longer peered with this one (blocked, or refused by either side) holds nothing here:
      // its reservations, the grants of its users and the steps run for its runs end. Called only once
      // discovery has started, after every service below is built.
      onPeeringEnded: (clusterId, reason, signal) => endPeerHoldings(clusterId, reason, signal),
    });

    // The cluster id is known once discovery has started; until then catalog requests answer 503.
    const catalog = createCatalogService({
      db,
      clusterId: () => discovery.identity().clusterId,
      users: identity,
      // Deleting an entry, or changing what it points at or who may see it, ends the access granted for it.
      onAccessChange: (entryId) => grants.revokeForEntry(entryId),
      // A compute entry offers at most this node's capacity, and takes what it leaves out from it.
      computeOffer: async () => {
        const { capacity, peerQuota } = await compute.status();
        return { ...capacity, peerQuota };
      },
      logger: logger.child({ component: 'catalog' }),
    });
    // Federated search: answers peered clusters on /archipel/catalog/1.0.0 (once discovery has started)
    // and asks them on behalf of this cluster's users.
    const catalogFederation = createCatalogFederation({ catalog, network: discovery, logger: logger.child({ component: 'catalog-federation' }) });

    // Compute between peered clusters: answers their reservations on /archipel/compute/1.0.0 (with this
    // ledger, its capacity and its per-peer quota) and reserves on them for this cluster's users.
    const computeFederation = createComputeFederation({
      ledger: compute,
      network: discovery,
      logger: logger.child({ component: 'compute-federation' }),
    });

    // Access to data and storage entries, for the users who may see them: this cluster's through the
    // API, peered clusters' on /archipel/access/1.0.0 (and theirs asked for this cluster's users).
    const entryAccess = createEntryAccess({ catalog, grants, logger: grantsLogger });
    const accessFederation = createAccessFederation({
      entryAccess,
      network: discovery,
      logger: logger.child({ component: 'access-federation' }),
    });

    // Runs: the translated Argo Workflows go to the workflow engine (local, or an Argo server).
    const storeUrl = objectStoreUrl(config);
    // Steps across clusters (embedded mode): pods placed on peers run there, peers' pods run here.
    const late: { engine?: WorkflowEngine; runs?: RunService } = {};
    const executionFederation = createExecutionFederation({
      network: discovery,
      db,
      store: objects,
      uploadDir: path.join(config.dataDir, 'uploads', 'peers'),
      engine: () => late.engine!,
      reservation: (from, user, id, signal) => compute.get({ kind: 'peer', clusterId: from, userName: user }, id, { signal }),
      context: (runName, cluster, step, signal) => late.runs!.executionContext(runName, cluster, step, signal ? { signal } : {}),
      replace: (runName, lost, step, why, signal) => late.runs!.replaceStep(runName, lost, step, why, signal ? { signal } : {}),
      unreachableMs: config.runs.peerTimeoutSeconds * 1000,
      logger: logger.child({ component: 'execution-federation' }),
    });
    undo.push(() => executionFederation.close());
    const peeringLogger = logger.child({ component: 'peering' });
    async function endPeerHoldings(clusterId: string, reason: PeeringEndReason, signal: AbortSignal): Promise<void> {
      const by = `peering:${reason}`;
      const [reservations, grantsRevoked, steps] = await Promise.allSettled([
        compute.releaseRequester(clusterId, { by, signal }),
        grants.revokeForCluster(clusterId, { by, signal }),
        executionFederation.stopFor(clusterId, { signal }),
      ]);
      const failures = [reservations, grantsRevoked, steps].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      const count = (r: PromiseSettledResult<number>) => (r.status === 'fulfilled' ? r.value : null);
      peeringLogger.info('ended what a cluster no longer peered held here', {
        clusterId,
        reason,
        reservationsReleased: count(reservations),
        grantsRevoked: count(grantsRevoked),
        stepsStopped: count(steps),
      });
      // Logged by the discovery agent; blocking the cluster again tries again.
      if (failures.length) throw new UnavailableError(`could not end all that cluster ${clusterId} held: ${failures.map(describeError).join('; ')}`, { cause: failures[0] });
    }
    const { engine, close: closeEngine } = await openWorkflowEngine(config, db, objects, storeUrl, logger, config.argo.server === undefined ? executionFederation : undefined);
    late.engine = engine;
    if (closeEngine) undo.push(closeEngine);
    const files = createFileService({ db, store: objects, maxBytes: config.runs.maxUploadBytes });
    const runs: RunService = createRunService({
      db,
      store: objects,
      storeUrl,
      engine,
      files,
      clusterId: () => discovery.identity().clusterId,
      // The Argo server runs each tool in its image; the local engine runs tools as local processes.
      containers: config.argo.server !== undefined,
      services: catalogServices(catalog, catalogFederation),
      data: createDataInputs({ catalog, entryAccess, grants, remote: accessFederation }),
      federation: federationView({ ledger: compute, remote: computeFederation, discovery, logger: logger.child({ component: 'placement' }) }),
      // Runs follow their plan: steps placed on peers run there under compute reserved for them (through
      // Admiralty in cluster mode, over /archipel/execution/1.0.0 in embedded mode).
      crossCluster: peerReservations(computeFederation),
      storage: createOutputStorage({
        catalog,
        entryAccess,
        grants,
        memberProjectNames: (userId) => identity.memberProjectNames(userId),
        remote: { catalog: catalogFederation, access: accessFederation },
      }),
      logger,
    });
    late.runs = runs;

    const app = createHttpApp({
      logger: logger.child({ component: 'http' }),
      authenticate: (token) => identity.authenticate(token),
      ready: async () => (await db.query('SELECT 1')).rowCount === 1,
      routers: [
        createIdentityRoutes(identity),
        createSignOnRoutes({ oidc: openSignOn(config, identity, () => api.url, logger.child({ component: 'sign-on' })) }),
        createDiscoveryRoutes({ discovery }),
        createCatalogRoutes({
          catalog,
          memberProjectNames: (userId) => identity.memberProjectNames(userId),
          federatedSearch: catalogFederation,
        }),
        createProviderRoutes({ compute }),
        createRemoteComputeRoutes({ remote: computeFederation }),
        createGrantRoutes({ grants }),
        createRunRoutes({ runs, memberProjectNames: (userId) => identity.memberProjectNames(userId) }),
        createExecutionRoutes({ executions: executionFederation }),
        createFileRoutes({ files, memberProjectNames: (userId) => identity.memberProjectNames(userId) }),
        createAccessRoutes({
          entryAccess,
          remote: accessFederation,
          clusterId: () => catalog.clusterId(),
          memberProjectNames: (userId) => identity.memberProjectNames(userId),
        }),
      ],
      publicPaths: [LOGIN_PATH, ...SIGN_ON_PATHS].map((p) => `${API_PREFIX}${p}`),
      maxBodyBytes: config.http.maxBodyBytes,
      streamedBodyPaths: ['/files'],
      version: packageVersion(),
      defaultMetrics: true,
      pages: createPortalRoutes(),
    });
    const server = await serveHttp(app.fetch, { host: config.http.host, port: config.http.port });
    undo.push(() => server.close());
    api.url = server.url;

    await discovery.start();
    undo.push(() => discovery.stop());
    await catalogFederation.serve();
    await computeFederation.serve();
    await accessFederation.serve();
    await executionFederation.serve();
    await runs.start();
    undo.push(() => runs.stop());
    const { clusterId, multiaddrs } = discovery.identity();
    const swarm = discovery.swarm();

    logger.info('node started', {
      name: config.name,
      url: server.url,
      dataDir: config.dataDir,
      clusterId,
      p2p: multiaddrs,
      computeSource: config.compute.capacity.source,
    });
    return {
      name: config.name,
      url: server.url,
      dataDir: config.dataDir,
      adminTokenFile,
      database: config.database.url ? 'postgresql' : 'pglite',
      resourceStore: config.kubernetes.kubeconfig ? 'kubernetes' : 'sql',
      clusterId,
      p2pAddresses: multiaddrs,
      swarmKeyFingerprint: swarm.keyFingerprint,
      generatedSwarmKey: swarm.generatedKey,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
