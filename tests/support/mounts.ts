import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Detaches every mount under `dir` (deepest first). Directory grants are read-only bind mounts where the
 * process may mount (root with CAP_SYS_ADMIN), and a node killed in a test leaves its grants mounted:
 * the test's temporary directory could not be removed, and the mounts would outlive the test.
 */
export function unmountUnder(dir: string): void {
  let mountinfo: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return; // not Linux: nothing was mounted
  }
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((p) => p.startsWith(prefix))
    .sort((x, y) => y.length - x.length);
  for (const point of points) {
    try {
      execFileSync('umount', ['-l', point], { stdio: 'ignore' });
    } catch {
      // Gone already, or not ours to detach: the removal that follows says so.
    }
  }
}
