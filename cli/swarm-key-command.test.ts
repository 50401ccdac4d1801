import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '../core/index.ts';
import { ARCHIPEL_BIN } from '../tests/support/archipel-process.ts';
import { writeSwarmKey, type SwarmKeyIo } from './swarm-key-command.ts';

const KEY = '/key/swarm/psk/1.0.0/\n/base16/\n' + 'ab'.repeat(32) + '\n';
const root = mkdtempSync(path.join(tmpdir(), 'archipel-swarm-key-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mode = (file: string) => statSync(file).mode & 0o777;

/** Standard output as a file of the given mode (what `> file` gives under that umask). */
function io(stdoutMode?: number): SwarmKeyIo & { out: string; err: string; close(): void } {
  const file = path.join(root, `stdout-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, '');
  if (stdoutMode !== undefined) chmodSync(file, stdoutMode);
  const fd = openSync(file, 'w');
  const self = {
    out: '',
    err: '',
    stdoutFd: fd,
    stdout: { write: (text: string) => void (self.out += text) },
    stderr: { write: (text: string) => void (self.err += text) },
    close: () => closeSync(fd),
  };
  return self;
}

describe('archipel swarm-key generate', () => {
  it('--out writes a new file readable only by its owner, and keeps an existing one unless --force', () => {
    const file = path.join(root, 'swarm.key');
    const first = io();
    writeSwarmKey(KEY, { out: file }, first);
    expect(readFileSync(file, 'utf8')).toBe(KEY);
    expect(mode(file)).toBe(0o600);
    expect(first.out).toBe('');
    expect(first.err).toContain(`--swarm-key ${file}`);

    expect(() => writeSwarmKey(KEY.replace('ab', 'cd'), { out: file }, io())).toThrow(ConflictError);
    expect(() => writeSwarmKey(KEY.replace('ab', 'cd'), { out: file }, io())).toThrow(/swarm\.key exists: give --force/);
    expect(readFileSync(file, 'utf8')).toBe(KEY);

    // --force replaces it, still 0600, even over a file others could read.
    chmodSync(file, 0o644);
    writeSwarmKey(KEY.replace('ab', 'cd'), { out: file, force: true }, io());
    expect(readFileSync(file, 'utf8')).toBe(KEY.replace('ab', 'cd'));
    expect(mode(file)).toBe(0o600);
  });

  it('refuses --out where nothing can be written, and --force without --out', () => {
    expect(() => writeSwarmKey(KEY, { out: path.join(root, 'no-such-dir', 'swarm.key') }, io())).toThrow(/--out .*: cannot write the key \(ENOENT\)/);
    expect(() => writeSwarmKey(KEY, { force: true }, io())).toThrow(InvalidInputError);
  });

  it('prints the key, and warns when standard output is a file its group or others can read', () => {
    for (const [fileMode, warns] of [[0o644, true], [0o640, true], [0o600, false]] as const) {
      const out = io(fileMode);
      writeSwarmKey(KEY, {}, out);
      out.close();
      expect(out.out).toBe(KEY);
      if (warns) expect(out.err).toMatch(new RegExp(`others can read \\(mode 0${fileMode.toString(8)}\\).*chmod 600.*--out FILE`));
      else expect(out.err).toBe('');
    }
  });

  it('warns as a user sees it: `archipel swarm-key generate > swarm.key`', { timeout: 60_000 }, async () => {
    const file = path.join(root, 'redirected.key');
    writeFileSync(file, '', { mode: 0o644 });
    chmodSync(file, 0o644);
    const fd = openSync(file, 'w');
    const child = spawn(process.execPath, [ARCHIPEL_BIN, 'swarm-key', 'generate'], { stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    expect(err).toMatch(/^archipel: warning: the swarm key went to a file that others can read \(mode 0644\)/);
  });
});
