import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/archipel-process.ts';

/**
 * `npm install` on the oldest Node.js the package says it runs on (package.json `engines`) installs no
 * package that declares it needs a newer one: npm would warn (EBADENGINE), and such a package may use
 * what that Node lacks. Asked of npm itself over package-lock.json, so that each range means what npm
 * makes of it.
 */
describe('the locked dependencies', () => {
  it('all declare that they run on the oldest Node.js of package.json engines', { timeout: 60_000 }, () => {
    const engines = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const oldest = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(engines);
    expect(oldest, `engines.node "${engines}": expected ">=MAJOR.MINOR"`).not.toBeNull();
    const version = `${oldest![1]}.${oldest![2]}.${oldest![3] ?? 0}`;
    const query = spawnSync('npm', ['query', '--package-lock-only', `:attr(engines, [node]):not(:semver(${version}, :attr(engines, [node])))`], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(query.status, query.stderr).toBe(0);
    const needNewer = (JSON.parse(query.stdout) as { location: string; version: string; engines: { node: string } }[]).map((p) => `${p.location}@${p.version}: node ${p.engines.node}`);
    expect(needNewer, `packages that need a Node.js newer than ${version}`).toEqual([]);
  });
});
