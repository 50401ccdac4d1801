// Prebuilds `archipel run` into one ES module (.build/run-main.mjs) so that it starts without compiling
// TypeScript at run time; bin/archipel.js uses it only while every source it was built from is
// unchanged, and falls back to tsx otherwise. Run by `npm install` (prepare) and `npm run build`.
// Never fails the install: without the bundle, everything still works, only slower to start.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, '.build');

try {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['cli/run-main.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: path.join(outdir, 'run-main.mjs'),
    metafile: true,
    logLevel: 'warning',
  });
  const sources = Object.fromEntries(Object.keys(result.metafile.inputs).map((file) => [file, statSync(path.join(root, file)).mtimeMs]));
  mkdirSync(outdir, { recursive: true });
  writeFileSync(path.join(outdir, 'manifest.json'), JSON.stringify({ entry: 'run-main.mjs', sources }, null, 1));
} catch (error) {
  process.stderr.write(`archipel: could not prebuild the fast "archipel run" (${error?.message ?? error}); it will start through tsx\n`);
}
