// Prebuilds `archipel run` and `archipel step` into one ES module (.build/run-main.mjs) so that it starts without compiling
// TypeScript at run time; bin/archipel.js uses it only while every source it was built from is
// unchanged, and falls back to tsx otherwise. Run by `npm install` (prepare) and `npm run build`.
// Never fails the install: without the bundle, everything still works, only slower to start.
import { cpSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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
    // Split: what only some commands need (the engine and its database, the S3 SDK) loads when used.
    splitting: true,
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'warning',
  });
  // The SQL migrations are read at run time beside the module that applies them (a chunk).
  const migrations = 'platform/sql/migrations';
  cpSync(path.join(root, migrations), path.join(outdir, 'chunks', 'migrations'), { recursive: true });
  const files = [...Object.keys(result.metafile.inputs), ...readdirSync(path.join(root, migrations)).map((f) => `${migrations}/${f}`)];
  const sources = Object.fromEntries(files.map((file) => [file, statSync(path.join(root, file)).mtimeMs]));
  mkdirSync(outdir, { recursive: true });
  writeFileSync(path.join(outdir, 'manifest.json'), JSON.stringify({ entry: 'run-main.mjs', sources }, null, 1));
} catch (error) {
  process.stderr.write(`archipel: could not prebuild the fast "archipel run" (${error?.message ?? error}); it will start through tsx\n`);
}
