import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { InvalidInputError, NotAuthenticatedError } from '../../core/index.ts';

/** Where `archipel login` keeps the node URL and token: `$XDG_CONFIG_HOME/archipel/client.json`, mode 0600. */
export function clientConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'archipel', 'client.json');
}

export interface ClientConfig {
  node: string;
  token: string;
}

export function saveClientConfig(config: ClientConfig, file = clientConfigFile()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The node to talk to: ARCHIPEL_NODE and ARCHIPEL_TOKEN override what `archipel login` saved. */
export function loadClientConfig(env: NodeJS.ProcessEnv = process.env, file = clientConfigFile(env)): ClientConfig {
  let saved: Partial<ClientConfig> = {};
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClientConfig>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidInputError(`cannot read ${file}: ${(error as Error).message}`, [], { cause: error });
  }
  const node = env.ARCHIPEL_NODE || saved.node;
  const token = env.ARCHIPEL_TOKEN || saved.token;
  if (!node || !token) throw new NotAuthenticatedError('not logged in to a node: run `archipel login --node URL`, or set ARCHIPEL_NODE and ARCHIPEL_TOKEN');
  return { node: node.replace(/\/+$/, ''), token };
}
