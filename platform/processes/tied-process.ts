import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * A command line that runs `argv` in a process group that ends when this process does, even killed with
 * SIGKILL: a small shell watches this process and kills its own group once it is gone. Spawn it
 * `detached` (its own group); `exec` keeps the command's pid the group leader's.
 */
export function tiedToThisProcess(argv: string[]): string[] {
  const watchdog = '(while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -KILL 0) </dev/null >/dev/null 2>&1 & exec "$@"';
  return ['/bin/sh', '-c', watchdog, String(process.pid), ...argv];
}

/** The executable a command names, searched in `PATH` as `execvp` would; undefined when there is none. */
export function findExecutable(command: string, pathVariable: string | undefined, cwd: string): string | undefined {
  const runnable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) {
    const file = path.resolve(cwd, command);
    return runnable(file) ? file : undefined;
  }
  for (const dir of (pathVariable ?? '').split(':')) {
    const file = path.join(dir || '.', command);
    if (runnable(path.resolve(cwd, file))) return file;
  }
  return undefined;
}
