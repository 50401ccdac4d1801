import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { load, YAMLException } from 'js-yaml';
import { z } from 'zod';
import { InvalidInputError, type InputIssue } from '../core/index.ts';
import { isQualifiedName, labelSelectorProblem } from '../platform/kubernetes/index.ts';

/**
 * The configuration of a node: built-in defaults, then a YAML/JSON file (`--config`), then environment
 * variables, then command-line flags, each overriding the one before. Validated once; every problem is
 * reported at once, naming where the bad value came from.
 */
const Port = z.number().int().min(0).max(65535);
const LogLevel = z.enum(['error', 'warn', 'info', 'debug']);
const Multiaddr = z.string().min(2).max(1024).regex(/^\/\S+$/, 'must be a multiaddr such as /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW...');

/** The ledger counts each resource in a 32-bit integer: millicores, MiB, GPUs. */
const MAX_UNITS = 2 ** 31 - 1;
const Cores = z
  .number()
  .min(0)
  .max(MAX_UNITS / 1000)
  .refine((cores) => Math.abs(cores * 1000 - Math.round(cores * 1000)) < 1e-6, 'must be a whole number of thousandths of a core (0.001 = 1m)');
const MemoryMiB = z.number().int('must be a whole number of MiB').min(0).max(MAX_UNITS);
const Gpus = z.number().int('must be a whole number').min(0).max(MAX_UNITS);
const AMOUNTS = ['cores', 'memoryMiB', 'gpus'] as const;

/**
 * Where the compute provider's capacity comes from: this machine (its cores and memory unless given, and
 * the GPUs given), a fixed amount (`static`), or the allocatable capacity of the Kubernetes nodes (the
 * selected, Ready, schedulable ones). Never chosen from other settings. Which fields go with which source
 * is checked by `computeIssues`, alongside the schema, so that every problem is reported at once.
 */
const ComputeCapacity = z.strictObject({
  source: z.enum(['machine', 'kubernetes', 'static']),
  cores: Cores.optional(),
  memoryMiB: MemoryMiB.optional(),
  gpus: Gpus.optional(),
  nodeSelector: z
    .string()
    .superRefine((selector, ctx) => {
      const problem = labelSelectorProblem(selector);
      if (problem) ctx.addIssue({ code: 'custom', message: `must be a Kubernetes label selector: ${problem}` });
    })
    .optional(),
  gpuResources: z.array(z.string().refine(isQualifiedName, 'must be a resource name such as nvidia.com/gpu')).min(1).max(32).optional(),
});

/**
 * `--peering-policy` and `ARCHIPEL_P2P_PEERING_POLICY` take `manual`, `auto` or `allow:<id>,<id>`; a
 * config file may also give the object (`{ mode: allowList, allowedClusterIds: [...] }`).
 */
function peeringPolicyShorthand(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.startsWith('allow:')) {
    return { mode: 'allowList', allowedClusterIds: value.slice('allow:'.length).split(',').map((id) => id.trim()).filter(Boolean) };
  }
  return { mode: value };
}

/** Loopback hosts, where plain http is allowed for the sign-on provider (development and tests). */
const isLoopback = (hostname: string) => ['localhost', '127.0.0.1', '[::1]'].includes(hostname) || hostname.endsWith('.localhost');
const parsedUrl = (value: string) => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};
const ProviderUrl = z
  .string({ error: 'required: the provider\'s issuer URL' })
  .refine((value) => {
    const url = parsedUrl(value);
    return url !== undefined && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname)));
  }, 'must be an https:// URL (http:// only on localhost or 127.0.0.1)');
const WebUrl = z.string().refine((value) => ['http:', 'https:'].includes(parsedUrl(value)?.protocol ?? ''), 'must be an http:// or https:// URL');
/** OAuth scope tokens (RFC 6749 3.3), as a list or one string separated by spaces. */
const Scopes = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value),
  z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope name (no spaces or quotes)'))
    .max(64)
    .refine((scopes) => scopes.includes('openid'), 'must include "openid"'),
);
const ClaimName = z.string().min(1).max(256);

/**
 * Single sign-on through an external OpenID Connect provider (authorization code with PKCE). The node is
 * a confidential client; the provider must allow the redirect URI, which defaults to the node's own URL
 * followed by `/api/v1/auth/oidc/callback`.
 */
const OidcSettings = z.strictObject({
  issuer: ProviderUrl,
  clientId: z.string({ error: 'required: the client id registered with the provider' }).min(1).max(1024),
  clientSecret: z.string({ error: 'required (or set ARCHIPEL_OIDC_CLIENT_SECRET)' }).min(1).max(4096),
  redirectUri: WebUrl.optional(),
  scopes: Scopes.default(['openid', 'profile', 'email']),
  displayName: z.string().min(1).max(100).default('Single sign-on'),
  projectsClaim: ClaimName.optional(),
  usernameClaim: ClaimName.default('preferred_username'),
});

const ConfigSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$/, 'must be 1-63 letters, digits, ".", "_" or "-"'),
  dataDir: z.string().min(1),
  http: z.strictObject({
    host: z.string().min(1),
    port: Port,
    maxBodyBytes: z.number().int().min(1024).max(1024 ** 3),
  }),
  p2p: z.strictObject({
    /** An IP address: 127.0.0.1 keeps the node to this machine; 0.0.0.0 (or a LAN address) to federate. */
    host: z.string().refine((host) => isIP(host) !== 0, 'must be an IP address (such as 127.0.0.1 or 0.0.0.0)'),
    port: Port,
    /** Multiaddrs to announce instead of the listen addresses (behind NAT, in a pod). */
    announce: z.array(Multiaddr),
    /** The federation's pre-shared key file; without one the node generates its own in the data directory. */
    swarmKeyFile: z.string().min(1).optional(),
    bootstrap: z.array(Multiaddr).max(64),
    peeringPolicy: z.preprocess(
      peeringPolicyShorthand,
      z.strictObject({
        mode: z.enum(['manual', 'auto', 'allowList']),
        allowedClusterIds: z.array(z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{1,128}$/, 'must be a cluster id (a base58 libp2p peer id)')).max(1024).optional(),
      }),
    ),
  }),
  /** With a kubeconfig, the Swarm/Identity/Peer objects are Kubernetes custom resources in this namespace. */
  kubernetes: z.strictObject({
    kubeconfig: z.string().min(1).optional(),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name'),
  }),
  database: z.strictObject({ url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional() }),
  objectStore: z.strictObject({
    s3: z
      .strictObject({
        bucket: z.string().min(3).max(63),
        prefix: z.string().optional(),
        endpoint: z.string().url().optional(),
        region: z.string().default('us-east-1'),
        accessKeyId: z.string().optional(),
        secretAccessKey: z.string().optional(),
        forcePathStyle: z.boolean().default(true),
      })
      .optional(),
  }),
  compute: z.strictObject({
    capacity: ComputeCapacity,
    /** The most each peer cluster may hold at once; a resource left out is limited by the capacity only. */
    peerQuota: z.strictObject({ cores: Cores.optional(), memoryMiB: MemoryMiB.optional(), gpus: Gpus.optional() }).optional(),
  }),
  /** With a server, runs go to Argo Workflows there (cluster mode); without one, the local engine runs them. */
  argo: z.strictObject({
    server: z.string().url().optional(),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name'),
    /** A service-account token for the Argo server (`--auth-mode=client`). */
    token: z.string().min(1).optional(),
  }),
  runs: z.strictObject({
    /** The largest file a user may upload as a run input. */
    maxUploadBytes: z.number().int().min(1).max(2 ** 50),
    /** How long a peer running a step of a run may not answer before the step is placed again. */
    peerTimeoutSeconds: z.number().min(1).max(86_400),
  }),
  log: z.strictObject({ level: LogLevel, format: z.enum(['auto', 'json', 'pretty']) }),
  oidc: OidcSettings.optional(),
});

export type NodeConfig = Readonly<z.infer<typeof ConfigSchema>>;

/** Values given on the command line, already named by their config path. */
export interface ConfigFlags {
  configFile?: string;
  name?: string;
  dataDir?: string;
  httpHost?: string;
  httpPort?: string;
  p2pHost?: string;
  p2pPort?: string;
  swarmKeyFile?: string;
  /** Repeated or comma-separated. */
  bootstrap?: string[];
  announce?: string[];
  peeringPolicy?: string;
  kubeconfig?: string;
  computeSource?: string;
  computeCores?: string;
  computeMemoryMiB?: string;
  computeGpus?: string;
  argoServer?: string;
  argoNamespace?: string;
  logLevel?: string;
}

type Source = { label: string; file?: string; text?: string };
type Tree = Record<string, unknown>;

/** Environment variables and the config path each sets. */
const ENVIRONMENT: Record<string, string> = {
  ARCHIPEL_NAME: 'name',
  ARCHIPEL_DATA_DIR: 'dataDir',
  ARCHIPEL_HTTP_HOST: 'http.host',
  ARCHIPEL_HTTP_PORT: 'http.port',
  ARCHIPEL_HTTP_MAX_BODY_BYTES: 'http.maxBodyBytes',
  ARCHIPEL_P2P_HOST: 'p2p.host',
  ARCHIPEL_P2P_PORT: 'p2p.port',
  ARCHIPEL_P2P_ANNOUNCE: 'p2p.announce',
  ARCHIPEL_SWARM_KEY_FILE: 'p2p.swarmKeyFile',
  ARCHIPEL_BOOTSTRAP: 'p2p.bootstrap',
  ARCHIPEL_PEERING_POLICY: 'p2p.peeringPolicy',
  ARCHIPEL_KUBECONFIG: 'kubernetes.kubeconfig',
  ARCHIPEL_KUBERNETES_NAMESPACE: 'kubernetes.namespace',
  ARCHIPEL_COMPUTE_SOURCE: 'compute.capacity.source',
  ARCHIPEL_COMPUTE_CORES: 'compute.capacity.cores',
  ARCHIPEL_COMPUTE_MEMORY_MIB: 'compute.capacity.memoryMiB',
  ARCHIPEL_COMPUTE_GPUS: 'compute.capacity.gpus',
  ARCHIPEL_COMPUTE_NODE_SELECTOR: 'compute.capacity.nodeSelector',
  ARCHIPEL_COMPUTE_GPU_RESOURCES: 'compute.capacity.gpuResources',
  ARCHIPEL_COMPUTE_PEER_QUOTA_CORES: 'compute.peerQuota.cores',
  ARCHIPEL_COMPUTE_PEER_QUOTA_MEMORY_MIB: 'compute.peerQuota.memoryMiB',
  ARCHIPEL_COMPUTE_PEER_QUOTA_GPUS: 'compute.peerQuota.gpus',
  ARCHIPEL_ARGO_SERVER: 'argo.server',
  ARCHIPEL_ARGO_NAMESPACE: 'argo.namespace',
  ARGO_TOKEN: 'argo.token',
  ARCHIPEL_MAX_UPLOAD_BYTES: 'runs.maxUploadBytes',
  ARCHIPEL_RUNS_PEER_TIMEOUT_SECONDS: 'runs.peerTimeoutSeconds',
  ARCHIPEL_LOG_LEVEL: 'log.level',
  ARCHIPEL_LOG_FORMAT: 'log.format',
  ARCHIPEL_OIDC_CLIENT_SECRET: 'oidc.clientSecret',
  DATABASE_URL: 'database.url',
  S3_BUCKET: 'objectStore.s3.bucket',
  S3_PREFIX: 'objectStore.s3.prefix',
  S3_ENDPOINT: 'objectStore.s3.endpoint',
  S3_REGION: 'objectStore.s3.region',
  S3_ACCESS_KEY_ID: 'objectStore.s3.accessKeyId',
  S3_SECRET_ACCESS_KEY: 'objectStore.s3.secretAccessKey',
};
const NUMERIC = new Set([
  'http.port',
  'http.maxBodyBytes',
  'p2p.port',
  'runs.maxUploadBytes',
  'runs.peerTimeoutSeconds',
  ...['capacity', 'peerQuota'].flatMap((section) => AMOUNTS.map((amount) => `compute.${section}.${amount}`)),
]);
/** Lists given as one string (environment) are comma- or space-separated. */
const LISTS = new Set(['p2p.bootstrap', 'p2p.announce', 'compute.capacity.gpuResources']);

function defaults(): Tree {
  return {
    name: hostname().replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 63) || 'archipel',
    dataDir: '.archipel',
    http: { host: '127.0.0.1', port: 8080, maxBodyBytes: 1024 * 1024 },
    p2p: { host: '127.0.0.1', port: 4001, announce: [], bootstrap: [], peeringPolicy: { mode: 'manual' } },
    kubernetes: { namespace: 'archipel' },
    compute: { capacity: { source: 'machine' } },
    database: {},
    objectStore: {},
    argo: { namespace: 'argo' },
    runs: { maxUploadBytes: 8 * 1024 ** 3, peerTimeoutSeconds: 60 },
    log: { level: 'info', format: 'auto' },
  };
}

function setPath(tree: Tree, dotted: string, value: unknown) {
  const keys = dotted.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys.at(-1)!] = value;
}

/** Strings from the environment or flags become numbers where the schema wants one ("abc" stays, to be reported). */
const fromText = (dotted: string, value: string | string[]): unknown => {
  if (LISTS.has(dotted)) return (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(/[\s,]+/)).filter(Boolean);
  if (Array.isArray(value)) return value;
  return NUMERIC.has(dotted) && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
};

function merge(base: Tree, over: Tree, sources: Map<string, Source>, source: Source, prefix = ''): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value) && typeof out[key] === 'object' && out[key] !== null) {
      out[key] = merge(out[key] as Tree, value as Tree, sources, source, dotted);
    } else {
      out[key] = value;
      sources.set(dotted, source);
    }
  }
  return out;
}

/** The 1-based line of a dotted key in YAML/JSON text, found by following the key names down. */
function lineOf(text: string, dotted: string): number | undefined {
  const lines = text.split('\n');
  let from = 0;
  let found: number | undefined;
  for (const key of dotted.split('.')) {
    const pattern = new RegExp(`^\\s*["']?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:`);
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    if (index < 0) return found;
    found = index + 1;
    from = index + 1;
  }
  return found;
}

function readConfigFile(file: string): { tree: Tree; source: Source } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read config file ${file}: ${(error as Error).message}`, [{ path: 'configFile', message: 'unreadable', file }], { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = load(text, { filename: file });
  } catch (error) {
    const line = error instanceof YAMLException && error.mark ? error.mark.line + 1 : undefined;
    const reason = error instanceof YAMLException ? error.reason : (error as Error).message;
    throw new InvalidInputError(`config file ${file}${line ? `:${line}` : ''} is not valid YAML or JSON: ${reason}`, [
      { path: '(file)', message: reason, file, ...(line ? { line } : {}) },
    ]);
  }
  if (parsed === undefined || parsed === null) parsed = {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidInputError(`config file ${file} must hold a mapping of settings`, [{ path: '(file)', message: 'not a mapping', file }]);
  }
  return { tree: parsed as Tree, source: { label: `config file ${file}`, file, text } };
}

export function loadConfig(flags: ConfigFlags, env: Readonly<Record<string, string | undefined>>, cwd: string): NodeConfig {
  const sources = new Map<string, Source>();
  let tree = defaults();

  const configFile = flags.configFile ?? env.ARCHIPEL_CONFIG;
  if (configFile) {
    const { tree: fileTree, source } = readConfigFile(path.resolve(cwd, configFile));
    tree = merge(tree, fileTree, sources, source);
  }

  const fromEnv: Tree = {};
  for (const [variable, dotted] of Object.entries(ENVIRONMENT)) {
    const value = env[variable];
    if (value !== undefined && value !== '') {
      setPath(fromEnv, dotted, fromText(dotted, value));
      sources.set(dotted, { label: `environment variable ${variable}` });
    }
  }
  tree = merge(tree, fromEnv, new Map(), { label: '' });

  const flagPaths: [keyof ConfigFlags, string, string][] = [
    ['name', 'name', '--name'],
    ['dataDir', 'dataDir', '--data-dir'],
    ['httpHost', 'http.host', '--http-host'],
    ['httpPort', 'http.port', '--http-port'],
    ['p2pHost', 'p2p.host', '--p2p-host'],
    ['p2pPort', 'p2p.port', '--p2p-port'],
    ['swarmKeyFile', 'p2p.swarmKeyFile', '--swarm-key'],
    ['bootstrap', 'p2p.bootstrap', '--bootstrap'],
    ['announce', 'p2p.announce', '--announce'],
    ['peeringPolicy', 'p2p.peeringPolicy', '--peering-policy'],
    ['kubeconfig', 'kubernetes.kubeconfig', '--kubeconfig'],
    ['computeSource', 'compute.capacity.source', '--compute-source'],
    ['computeCores', 'compute.capacity.cores', '--compute-cores'],
    ['computeMemoryMiB', 'compute.capacity.memoryMiB', '--compute-memory-mib'],
    ['computeGpus', 'compute.capacity.gpus', '--compute-gpus'],
    ['argoServer', 'argo.server', '--argo-server'],
    ['argoNamespace', 'argo.namespace', '--argo-namespace'],
    ['logLevel', 'log.level', '--log-level'],
  ];
  const fromFlags: Tree = {};
  for (const [flag, dotted, option] of flagPaths) {
    const value = flags[flag];
    if (value !== undefined) {
      setPath(fromFlags, dotted, fromText(dotted, value));
      sources.set(dotted, { label: `option ${option}` });
    }
  }
  tree = merge(tree, fromFlags, new Map(), { label: '' });

  const result = ConfigSchema.safeParse(tree);
  const problems: { dotted: string; message: string; keys: string[]; origin?: string }[] = [
    ...(result.success ? [] : result.error.issues).map((issue) => ({
      dotted: issue.path.map(String).join('.'),
      message: issue.message,
      keys: issue.code === 'unrecognized_keys' ? issue.keys : [],
    })),
    ...computeIssues(tree, env).map((issue) => ({ ...issue, keys: [] })),
    ...argoIssues(tree).map((issue) => ({ ...issue, keys: [] })),
  ];
  if (!result.success || problems.length) {
    const issues: InputIssue[] = problems.map(({ dotted, message: reason, keys, origin }) => {
      const named = origin ? [origin] : keys.length ? keys.map((k) => (dotted ? `${dotted}.${k}` : k)) : [dotted];
      // The source of the nearest configured ancestor (a whole section may come from one place).
      const source = named.map((p) => findSource(sources, p)).find(Boolean);
      const line = source?.text ? lineOf(source.text, named[0]!) : undefined;
      const message = keys.length ? `unknown setting(s): ${keys.map((k) => (dotted ? `${dotted}.${k}` : k)).join(', ')}` : reason;
      return {
        path: dotted || '(root)',
        message: source ? `${message} (from ${source.label}${line ? `, line ${line}` : ''})` : message,
        ...(source?.file ? { file: source.file } : {}),
        ...(line ? { line } : {}),
      };
    });
    // One problem goes in the message itself (the CLI lists the issues only when there are several).
    const only = issues.length === 1 ? issues[0]! : undefined;
    throw new InvalidInputError(only ? `invalid configuration: ${only.path}: ${only.message}` : `invalid configuration (${issues.length} problems)`, issues);
  }
  const config = result.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  if (config.p2p.swarmKeyFile) config.p2p.swarmKeyFile = path.resolve(cwd, config.p2p.swarmKeyFile);
  if (config.kubernetes.kubeconfig) config.kubernetes.kubeconfig = path.resolve(cwd, config.kubernetes.kubeconfig);
  return deepFreeze(config);
}

/**
 * Which compute settings go together, checked on the merged settings beside the schema (so that a bad
 * value elsewhere hides nothing): `static` needs cores and memoryMiB; `kubernetes` offers the nodes'
 * capacity, so takes no amounts, and without a kubeconfig reads the nodes with the pod's service account,
 * which exists only in a pod; the node selector and GPU resources are for `kubernetes` only.
 */
function computeIssues(tree: Tree, env: Readonly<Record<string, string | undefined>>): { dotted: string; message: string; origin?: string }[] {
  const section = (value: unknown): Tree => (typeof value === 'object' && value !== null ? (value as Tree) : {});
  const capacity = section(section(tree.compute).capacity);
  const issues: { dotted: string; message: string; origin?: string }[] = [];
  const issue = (field: string, message: string, origin?: string) => issues.push({ dotted: `compute.capacity.${field}`, message, ...(origin ? { origin } : {}) });
  if (capacity.source === 'static') {
    // A missing field came from nowhere: name where the source was chosen.
    for (const field of ['cores', 'memoryMiB']) if (capacity[field] === undefined) issue(field, 'required with source static', 'compute.capacity.source');
  }
  if (capacity.source === 'kubernetes') {
    for (const field of AMOUNTS) {
      if (capacity[field] !== undefined) issue(field, 'not used with source kubernetes, which offers the nodes’ allocatable capacity');
    }
    if (!section(tree.kubernetes).kubeconfig && !env.KUBERNETES_SERVICE_HOST) {
      issue('source', 'source kubernetes needs kubernetes.kubeconfig (--kubeconfig), or to run in a pod (KUBERNETES_SERVICE_HOST set)');
    }
  } else {
    for (const field of ['nodeSelector', 'gpuResources']) if (capacity[field] !== undefined) issue(field, 'only used with source kubernetes');
  }
  return issues;
}

/** Steps run in the Argo server's pods read and write the run's files in the object store: it must be S3 there. */
function argoIssues(tree: Tree): { dotted: string; message: string }[] {
  const section = (value: unknown): Tree => (typeof value === 'object' && value !== null ? (value as Tree) : {});
  if (section(tree.argo).server === undefined || section(tree.objectStore).s3 !== undefined) return [];
  return [{ dotted: 'argo.server', message: 'runs on an Argo server need an S3 object store (objectStore.s3, S3_BUCKET) that its pods can reach' }];
}

function findSource(sources: Map<string, Source>, dotted: string): Source | undefined {
  for (let p = dotted; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const source = sources.get(p);
    if (source) return source;
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
