import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/index.ts';
import { loadOrCreateNodeKey, loadOrCreateSwarmKey } from './key-files.ts';
import { encodeSwarmKey, generateSwarmKey, parseSwarmKey, swarmKeyFingerprint } from './swarm-key.ts';

const invalid = (fn: () => unknown): InvalidInputError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected an InvalidInputError');
};

describe('swarm keys', () => {
  it('generates keys in the /key/swarm/psk/1.0.0/ base16 format, a new one each time', () => {
    const text = generateSwarmKey();
    expect(text).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    expect(generateSwarmKey()).not.toBe(text);
    const parsed = parseSwarmKey(text);
    expect(parsed.key).toHaveLength(32);
    expect(parsed.text).toBe(text);
  });

  it('reads files written by other tools: CRLF, upper-case hex, no final newline', () => {
    const hex = 'dffb7e3135399a8b1612b2aaca1c36a3a8ac2cd0cca51ceeb2ced87d308cac6d';
    const parsed = parseSwarmKey(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${hex.toUpperCase()}`);
    expect(Buffer.from(parsed.key).toString('hex')).toBe(hex);
    expect(parsed.text).toBe(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}\n`);
  });

  it('fingerprints the key as sha256:<hex>, the same for the same key and never the key itself', () => {
    const key = new Uint8Array(32).fill(7);
    const fingerprint = swarmKeyFingerprint(key);
    expect(fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parseSwarmKey(encodeSwarmKey(key)).fingerprint).toBe(fingerprint);
    expect(fingerprint).not.toContain(Buffer.from(key).toString('hex'));
    expect(swarmKeyFingerprint(new Uint8Array(32).fill(8))).not.toBe(fingerprint);
  });

  it('names the file and the line of a malformed key', () => {
    const cases: [string, number, RegExp][] = [
      ['', 1, /expected "\/key\/swarm\/psk\/1\.0\.0\/"/],
      ['/key/swarm/psk/1.0.0/\n/base64/\nabc\n', 2, /base16/],
      ['/key/swarm/psk/1.0.0/\n/base16/\nabcd\n', 3, /64 hexadecimal digits/],
      [`/key/swarm/psk/1.0.0/\n/base16/\n${'z'.repeat(64)}\n`, 3, /64 hexadecimal digits/],
      [`/key/swarm/psk/1.0.0/\n/base16/\n${'a'.repeat(64)}\nextra\n`, 4, /unexpected text/],
    ];
    for (const [text, line, message] of cases) {
      const error = invalid(() => parseSwarmKey(text, '/etc/archipel/swarm.key'));
      expect(error.message).toMatch(new RegExp(`^/etc/archipel/swarm\\.key:${line}: `));
      expect(error.message).toMatch(message);
      expect(error.issues[0]).toMatchObject({ file: '/etc/archipel/swarm.key', line });
    }
  });
});

describe('key files in the data directory', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'archipel-keys-'));

  it('keeps one node key pair across restarts, readable only by the owner', async () => {
    const first = await loadOrCreateNodeKey(dataDir);
    const file = path.join(dataDir, 'p2p', 'node.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateNodeKey(dataDir);
    expect(again.equals(first)).toBe(true);
    expect(first.type).toBe('Ed25519');
  });

  it('generates its own swarm key when none is configured, never a built-in one', () => {
    const other = mkdtempSync(path.join(tmpdir(), 'archipel-keys-'));
    const first = loadOrCreateSwarmKey(dataDir);
    expect(first.generated).toBe(true);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSwarmKey(dataDir).swarmKey.fingerprint).toBe(first.swarmKey.fingerprint);
    expect(loadOrCreateSwarmKey(other).swarmKey.fingerprint).not.toBe(first.swarmKey.fingerprint);
  });

  it('uses a configured key file, and says which file is missing or malformed', () => {
    const file = path.join(dataDir, 'shared.key');
    writeFileSync(file, generateSwarmKey());
    expect(loadOrCreateSwarmKey(dataDir, file)).toMatchObject({ file, generated: false, swarmKey: { text: readFileSync(file, 'utf8') } });
    expect(invalid(() => loadOrCreateSwarmKey(dataDir, path.join(dataDir, 'nope.key'))).message).toMatch(/nope\.key does not exist/);
    writeFileSync(file, 'hello\n');
    expect(invalid(() => loadOrCreateSwarmKey(dataDir, file)).message).toMatch(/shared\.key:1: not a swarm key file/);
  });
});
