import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder, from this module's place in the sources or in the prebuilt bundle. */
export function packageRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'bin', 'archipel.js'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find Archipel's package folder above ${fileURLToPath(import.meta.url)}`);
  }
}

/** The package version from package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The `archipel` command of this checkout. */
export const archipelBin = () => path.join(packageRoot(), 'bin', 'archipel.js');
