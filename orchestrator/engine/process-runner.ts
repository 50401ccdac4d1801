import { spawn } from 'node:child_process';
import { createWriteStream, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, processStartTime, tiedToThisProcess } from '../../platform/processes/index.ts';

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

      const env = { ...baseEnv, ...request.env };
      // Checked here, since the watchdog shell would report a missing command only as exit code 127.
      if (findExecutable(file, env.PATH, request.workingDir) === undefined) {
        log.end();
        return resolve({ exitCode: null, startError: `cannot start ${file}: spawn ${file} ENOENT`, stdout: '' });
      }
      // Its own process group, which ends with this process even when it is killed with SIGKILL.
      const [shell, ...tied] = tiedToThisProcess([file, ...argv]);
      const child = spawn(shell!, tied, { cwd: request.workingDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      // Beside the log: the group's leader and its start time, so that a node restarted after a crash can
      // kill what this container left running (reapLeftoverProcesses).
      const pidFile = `${request.logFile}.pid`;
      if (child.pid !== undefined) {
        try {
          writeFileSync(pidFile, `${child.pid} ${processStartTime(child.pid) ?? ''}\n`);
        } catch {
          // Without it a crash may leave the process behind; the run itself is unaffected.
        }
      }
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
        rmSync(pidFile, { force: true });
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

/**
 * Kills the process groups that containers of a run left behind when the node running them died (their
 * `*.log.pid` files under `runDir`): a group is killed only while its leader is the same process, by its
 * start time. Resolves with the pids of the groups killed.
 */
export async function reapLeftoverProcesses(runDir: string): Promise<number[]> {
  const killed: number[] = [];
  let pods: string[];
  try {
    pods = await readdir(runDir);
  } catch {
    return killed;
  }
  for (const pod of pods) {
    const logs = join(runDir, pod, 'logs');
    for (const file of await readdir(logs).catch(() => [] as string[])) {
      if (!file.endsWith('.log.pid')) continue;
      const [pidText, started] = (await readFile(join(logs, file), 'utf8').catch(() => '')).trim().split(' ');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 1 && started && processStartTime(pid) === started) {
        try {
          process.kill(-pid, 'SIGKILL');
          killed.push(pid);
        } catch {
          // Gone in the meantime.
        }
      }
      rmSync(join(logs, file), { force: true });
    }
  }
  return killed;
}
