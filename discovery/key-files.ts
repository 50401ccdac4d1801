import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { InvalidInputError } from '../core/index.ts';
import { generateSwarmKey, parseSwarmKey, type SwarmKey } from './swarm-key.ts';

/** Where a node keeps its libp2p files, inside its data directory. */
export const P2P_DIR = 'p2p';
export const NODE_KEY_FILE = 'node.key';
export const SWARM_KEY_FILE = 'swarm.key';

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InvalidInputError(`cannot read ${file}: ${(error as Error).message}`, [{ path: 'file', message: 'unreadable', file }], { cause: error });
  }
}

/** Writes a new private file (mode 0600); fails if it appeared meanwhile, so two writers never mix. */
function writePrivate(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, data, { mode: 0o600, flag: 'wx' });
}

/**
 * The node's persistent Ed25519 key pair: its peer id is the cluster id, so it must survive restarts.
 * Created on first use as `<dataDir>/p2p/node.key` (protobuf-encoded, mode 0600).
 */
export async function loadOrCreateNodeKey(dataDir: string): Promise<PrivateKey> {
  const file = path.join(dataDir, P2P_DIR, NODE_KEY_FILE);
  const existing = readIfPresent(file);
  if (existing) {
    try {
      return privateKeyFromProtobuf(new Uint8Array(existing));
    } catch (error) {
      throw new InvalidInputError(`${file} is not a libp2p private key`, [{ path: 'nodeKey', message: 'not a protobuf-encoded private key', file }], { cause: error });
    }
  }
  const key = await generateKeyPair('Ed25519');
  writePrivate(file, privateKeyToProtobuf(key));
  return key;
}

export interface SwarmKeySource {
  swarmKey: SwarmKey;
  /** The file it came from. */
  file: string;
  /** True when this node generated it (no key was configured): a federation of one until shared. */
  generated: boolean;
}

/**
 * The swarm key: the configured file, or else `<dataDir>/p2p/swarm.key`, generated on first start. There
 * is no built-in key: two nodes share a network only if an operator gave them the same file.
 */
export function loadOrCreateSwarmKey(dataDir: string, configuredFile?: string): SwarmKeySource {
  if (configuredFile) {
    const text = readIfPresent(configuredFile);
    if (!text) throw new InvalidInputError(`swarm key file ${configuredFile} does not exist`, [{ path: 'p2p.swarmKeyFile', message: 'no such file', file: configuredFile }]);
    return { swarmKey: parseSwarmKey(text.toString('utf8'), configuredFile), file: configuredFile, generated: false };
  }
  const file = path.join(dataDir, P2P_DIR, SWARM_KEY_FILE);
  const existing = readIfPresent(file);
  if (existing) return { swarmKey: parseSwarmKey(existing.toString('utf8'), file), file, generated: false };
  const text = generateSwarmKey();
  writePrivate(file, text);
  return { swarmKey: parseSwarmKey(text, file), file, generated: true };
}
