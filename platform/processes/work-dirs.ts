import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isSameProcessAlive, processStartTime } from './process-identity.ts';

const OWNER = '.archipel-owner';

/** Marks a working directory as this process's, so that a later run can tell it was abandoned. */
export function claimWorkDir(dir: string): void {
  writeFileSync(path.join(dir, OWNER), `${process.pid} ${processStartTime(process.pid) ?? ''}\n`);
}

/**
 * Removes the working directories beside `prefix` (`/tmp/archipel-` names `/tmp/archipel-*`) whose owner
 * process is gone — what a run killed with SIGKILL left behind. Directories without an owner mark are not
 * Archipel's to judge and stay. `beforeRemove` may end what a directory's processes left running.
 * Resolves with the directories removed.
 */
export function sweepAbandonedWorkDirs(prefix: string, beforeRemove?: (dir: string) => void): string[] {
  const parent = path.dirname(prefix);
  const base = path.basename(prefix);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    if (!entry.startsWith(base)) continue;
    const dir = path.join(parent, entry);
    let owner: string;
    try {
      owner = readFileSync(path.join(dir, OWNER), 'utf8');
    } catch {
      continue;
    }
    const [pid, started] = owner.trim().split(' ');
    if (isSameProcessAlive(Number(pid), started)) continue;
    beforeRemove?.(dir);
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
