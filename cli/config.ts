import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { load, YAMLException } from 'js-yaml';
import { z } from 'zod';
import { InvalidInputError, type InputIssue } from '../core/index.ts';

/**
 * The configuration of a node: built-in defaults, then a YAML/JSON file (`--config`), then environment
 * variables, then command-line flags, each overriding the one before. Validated once; every problem is
 * reported at once, naming where the bad value came from.
 */
const Port = z.number().int().min(0).max(65535);
const LogLevel = z.enum(['error', 'warn', 'info', 'debug']);

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
  p2p: z.strictObject({ port: Port }),
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
  log: z.strictObject({ level: LogLevel, format: z.enum(['auto', 'json', 'pretty']) }),
});

export type NodeConfig = Readonly<z.infer<typeof ConfigSchema>>;

/** Values given on the command line, already named by their config path. */
export interface ConfigFlags {
  configFile?: string;
  name?: string;
  dataDir?: string;
  httpHost?: string;
  httpPort?: string;
  p2pPort?: string;
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
  ARCHIPEL_P2P_PORT: 'p2p.port',
  ARCHIPEL_LOG_LEVEL: 'log.level',
  ARCHIPEL_LOG_FORMAT: 'log.format',
  DATABASE_URL: 'database.url',
  S3_BUCKET: 'objectStore.s3.bucket',
  S3_PREFIX: 'objectStore.s3.prefix',
  S3_ENDPOINT: 'objectStore.s3.endpoint',
  S3_REGION: 'objectStore.s3.region',
  S3_ACCESS_KEY_ID: 'objectStore.s3.accessKeyId',
  S3_SECRET_ACCESS_KEY: 'objectStore.s3.secretAccessKey',
};
const NUMERIC = new Set(['http.port', 'http.maxBodyBytes', 'p2p.port']);

function defaults(): Tree {
  return {
    name: hostname().replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 63) || 'archipel',
    dataDir: '.archipel',
    http: { host: '127.0.0.1', port: 8080, maxBodyBytes: 1024 * 1024 },
    p2p: { port: 4001 },
    database: {},
    objectStore: {},
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
const fromText = (dotted: string, value: string): unknown => (NUMERIC.has(dotted) && /^\d+$/.test(value) ? Number(value) : value);

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
    ['p2pPort', 'p2p.port', '--p2p-port'],
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
  if (!result.success) {
    const issues: InputIssue[] = result.error.issues.map((issue) => {
      const dotted = issue.path.map(String).join('.');
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const named = keys.length ? keys.map((k) => (dotted ? `${dotted}.${k}` : k)) : [dotted];
      // The source of the nearest configured ancestor (a whole section may come from one place).
      const source = named.map((p) => findSource(sources, p)).find(Boolean);
      const line = source?.text ? lineOf(source.text, named[0]!) : undefined;
      const message = keys.length ? `unknown setting(s): ${named.join(', ')}` : issue.message;
      return {
        path: dotted || '(root)',
        message: source ? `${message} (from ${source.label}${line ? `, line ${line}` : ''})` : message,
        ...(source?.file ? { file: source.file } : {}),
        ...(line ? { line } : {}),
      };
    });
    throw new InvalidInputError(`invalid configuration (${issues.length} problem${issues.length > 1 ? 's' : ''})`, issues);
  }
  const config = result.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  return deepFreeze(config);
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
