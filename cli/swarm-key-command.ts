import { fstatSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { ConflictError, InvalidInputError } from '../core/index.ts';

/** Where `archipel swarm-key generate` writes: the key to stdout (or a file), notes to stderr. */
export interface SwarmKeyIo {
  /** The file descriptor behind `stdout`, to see whether the key lands in a file others can read. */
  stdoutFd: number;
  stdout: { write(text: string): void };
  stderr: { write(text: string): void };
}

const defaultIo: SwarmKeyIo = { stdoutFd: 1, stdout: process.stdout, stderr: process.stderr };

export interface WriteSwarmKeyOptions {
  /** Write the key to this file, mode 0600, instead of standard output. */
  out?: string;
  /** Replace `out` if it exists. */
  force?: boolean;
}

/** Writes a new private file (mode 0600); an existing one is kept unless `force`, then replaced whole. */
function writePrivateFile(file: string, text: string, force: boolean): void {
  const fail = (error: unknown): never => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ConflictError(`${file} exists: give --force to replace it (nodes started with the old key keep it until they restart)`, { cause: error });
    throw new InvalidInputError(`--out ${file}: cannot write the key (${code ?? (error as Error).message})`, [{ path: '--out', message: 'cannot write' }], { cause: error });
  };
  if (!force) {
    try {
      writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      fail(error);
    }
    return;
  }
  // A new file beside it, renamed over it: never a moment where the key is half written or readable.
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    fail(error);
  }
}

/** Whether a file descriptor is a regular file that its group or others may read (mode `& 0o044`). */
function readableByOthers(fd: number): number | undefined {
  try {
    const stat = fstatSync(fd);
    return stat.isFile() && (stat.mode & 0o044) !== 0 ? stat.mode & 0o777 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Puts a new swarm key where the operator asked: a new file of mode 0600 (`out`), or standard output,
 * with a warning on stderr when that is a file the group or others can read (`> swarm.key` under the
 * usual umask): anyone who holds the key can join the federation's network.
 */
export function writeSwarmKey(key: string, options: WriteSwarmKeyOptions, io: SwarmKeyIo = defaultIo): void {
  if (options.out !== undefined) {
    writePrivateFile(options.out, key, options.force === true);
    io.stderr.write(`wrote a new swarm key to ${options.out} (mode 0600); start each node of the federation with --swarm-key ${options.out}\n`);
    return;
  }
  if (options.force) throw new InvalidInputError('--force replaces the file of --out: give --out FILE too', [{ path: '--force', message: 'needs --out' }]);
  io.stdout.write(key);
  const mode = readableByOthers(io.stdoutFd);
  if (mode !== undefined) {
    io.stderr.write(
      `archipel: warning: the swarm key went to a file that others can read (mode ${mode.toString(8).padStart(4, '0')}); anyone holding it can join the federation's network: run chmod 600 on it, or write the key with --out FILE (mode 0600)\n`,
    );
  }
}

/** `archipel swarm-key generate [--out FILE [--force]]`. */
export function registerSwarmKeyCommand(program: Command, io: SwarmKeyIo = defaultIo): void {
  program
    .command('swarm-key')
    .description('manage swarm keys (the pre-shared key of a private federation)')
    .command('generate')
    .description('make a new random swarm key: archipel swarm-key generate --out swarm.key (mode 0600; keep it secret), or print it')
    .option('-o, --out <file>', 'write the key to this new file, readable only by you (mode 0600), instead of printing it')
    .option('--force', 'with --out: replace the file if it exists')
    .action(async (options: WriteSwarmKeyOptions) => {
      const { generateSwarmKey } = await import('../discovery/index.ts');
      writeSwarmKey(generateSwarmKey(), options, io);
    });
}
