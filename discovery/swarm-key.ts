import { createHash, randomBytes } from 'node:crypto';
import { InvalidInputError, type InputIssue } from '../core/index.ts';

/**
 * The pre-shared swarm key of a private libp2p network, in the file format go-ipfs and js-libp2p use:
 *
 * ```
 * /key/swarm/psk/1.0.0/
 * /base16/
 * <64 hex digits>
 * ```
 *
 * Every node of a federation holds the same key; a node without it cannot complete a connection.
 */
export const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/';
const ENCODING = '/base16/';
export const SWARM_KEY_BYTES = 32;

/** A parsed swarm key: the 32 key bytes and the canonical file text (what `@libp2p/pnet` reads). */
export interface SwarmKey {
  readonly key: Uint8Array;
  /** The canonical file text, newline-terminated. */
  readonly text: string;
  /** `sha256:<64 hex>` of the key bytes: safe to show, to compare two nodes' keys. */
  readonly fingerprint: string;
}

/** A new random swarm key, as the text of a swarm key file. */
export function generateSwarmKey(): string {
  return encodeSwarmKey(randomBytes(SWARM_KEY_BYTES));
}

/** The file text for the given 32 key bytes. */
export function encodeSwarmKey(key: Uint8Array): string {
  if (key.length !== SWARM_KEY_BYTES) throw new InvalidInputError(`a swarm key has ${SWARM_KEY_BYTES} bytes, not ${key.length}`);
  return `${SWARM_KEY_HEADER}\n${ENCODING}\n${Buffer.from(key).toString('hex')}\n`;
}

/** `sha256:<hex>` of the key bytes. */
export function swarmKeyFingerprint(key: Uint8Array): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * Parses a swarm key file's text. `file` names the file in error messages, which say which line is
 * wrong and what was expected there. Blank lines at the end and CRLF line ends are accepted.
 */
export function parseSwarmKey(text: string, file = 'swarm key'): SwarmKey {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  const problem = (line: number, message: string): never => {
    const issue: InputIssue = { path: 'swarmKey', message, file, line };
    throw new InvalidInputError(`${file}:${line}: not a swarm key file: ${message}`, [issue]);
  };
  if (lines[0]?.trim() !== SWARM_KEY_HEADER) problem(1, `expected "${SWARM_KEY_HEADER}"`);
  if (lines[1]?.trim() !== ENCODING) problem(2, `expected "${ENCODING}" (the only encoding supported)`);
  const hex = lines[2]?.trim() ?? '';
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) problem(3, `expected ${SWARM_KEY_BYTES * 2} hexadecimal digits (${SWARM_KEY_BYTES} bytes), found ${hex.length} characters`);
  if (lines.length > 3) problem(4, 'unexpected text after the key');
  const key = new Uint8Array(Buffer.from(hex, 'hex'));
  return { key, text: encodeSwarmKey(key), fingerprint: swarmKeyFingerprint(key) };
}
