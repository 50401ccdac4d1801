import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One container of a pod, its paths already mapped to this machine. */
export interface ContainerRunRequest {
  runName: string;
  nodeId: string;
  container: string;
  /** The container's `command` (its first word may be remapped by the runner) and `args`. */
  command: string[];
  args: string[];
  env: Record<string, string>;
  workingDir: string;
  /** Where stdout and stderr go, interleaved as `kubectl logs` shows them. */
  logFile: string;
  /** The template's annotations (placement, CWL step), for runners that route on them. */
  annotations: Record<string, string>;
  /** Aborted on stop or deadline: the container must be killed. */
  signal: AbortSignal;
}

export interface ContainerRunResult {
  /** null when the process was killed by a signal or never started. */
  exitCode: number | null;
  /** Why the process could not be started (command not found, ...). */
  startError?: string;
  /** The start of stdout, for Argo's `outputs.result`. */
  stdout: string;
}

export type ContainerRunner = (request: ContainerRunRequest) => Promise<ContainerRunResult>;

export interface ProcessRunnerOptions {
  /** Commands replaced by other argv prefixes; default maps `archipel` to this checkout's CLI. */
  commandMap?: Record<string, string[]>;
  /** Environment every container starts from (a container image's usual PATH by default). */
  baseEnv?: Record<string, string>;
  /** Time between SIGTERM and SIGKILL when a container is stopped (Kubernetes gives 30 s). */
  killGraceMs?: number;
  /** How much of stdout is kept for `outputs.result` (Argo keeps 256 KiB). */
  maxResultBytes?: number;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `archipel` → this checkout's CLI run by this Node, so that steps run the same code as the engine. */
export function defaultCommandMap(): Record<string, string[]> {
  return { archipel: [process.execPath, fileURLToPath(new URL('../../bin/archipel.js', import.meta.url))] };
}

/**
 * The embedded engine's container runtime: each container is a process on this machine running the
 * container's `command` and `args` (the image is ignored, which is why Archipel's step commands are its
 * own CLI), in its own process group so that stopping it also stops what it started. As in a container,
 * when the main process exits whatever it left running in its group is killed.
 */
export function createProcessRunner(options: ProcessRunnerOptions = {}): ContainerRunner {
  const commandMap = options.commandMap ?? defaultCommandMap();
  const baseEnv = options.baseEnv ?? { PATH: DEFAULT_PATH, LANG: 'C.UTF-8' };
  const killGraceMs = options.killGraceMs ?? 5_000;
  const maxResultBytes = options.maxResultBytes ?? 256 * 1024;

  return (request) =>
    new Promise<ContainerRunResult>((resolve) => {
      const [head, ...rest] = request.command;
      const prefix = head !== undefined ? (commandMap[head] ?? [head]) : [];
      const [file, ...argv] = [...prefix, ...rest, ...request.args];
      if (file === undefined) return resolve({ exitCode: null, startError: 'the container has no command', stdout: '' });
      const log = createWriteStream(request.logFile, { flags: 'a' });
      // A log that cannot be written must not crash the engine; the container's result still counts.
      log.on('error', () => {});
      const stdout: Buffer[] = [];
      let kept = 0;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      let closeTimer: NodeJS.Timeout | undefined;

      const finish = (result: ContainerRunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(killTimer);
        clearTimeout(closeTimer);
        request.signal.removeEventListener('abort', abort);
        if (log.errored) resolve(result);
        else log.end(() => resolve(result));
      };

      const child = spawn(file, argv, {
        cwd: request.workingDir,
        env: { ...baseEnv, ...request.env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // The group is already gone.
        }
      };
      function abort() {
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), killGraceMs);
      }

      child.stdout.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (kept < maxResultBytes) {
          stdout.push(chunk.subarray(0, maxResultBytes - kept));
          kept += Math.min(chunk.length, maxResultBytes - kept);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => log.write(chunk));
      child.on('error', (error) => finish({ exitCode: null, startError: `cannot start ${file}: ${error.message}`, stdout: '' }));
      child.on('exit', () => {
        killGroup('SIGKILL');
        // A process that left the group may still hold the pipes: do not wait for it forever.
        closeTimer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish({ exitCode: child.exitCode, stdout: Buffer.concat(stdout).toString('utf8') });
        }, 2_000);
      });
      child.on('close', (code) => finish({ exitCode: code, stdout: Buffer.concat(stdout).toString('utf8') }));

      if (request.signal.aborted) abort();
      else request.signal.addEventListener('abort', abort, { once: true });
    });
}
