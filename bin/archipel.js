#!/usr/bin/env node
// The `archipel` command. `archipel run` and `archipel step` start from the prebuilt bundle when it matches the sources
// (see build-fast-path.mjs); everything else runs the TypeScript through tsx (Node 20 cannot strip
// types), after the Node 20 polyfills.
import { readFileSync, statSync } from 'node:fs';

const argv = process.argv.slice(2);

function freshBundle() {
  try {
    const buildDir = new URL('../.build/', import.meta.url);
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', buildDir), 'utf8'));
    const root = new URL('../', import.meta.url);
    for (const [file, mtime] of Object.entries(manifest.sources)) {
      if (statSync(new URL(file, root)).mtimeMs !== mtime) return undefined;
    }
    return new URL(manifest.entry, buildDir).href;
  } catch {
    return undefined;
  }
}

const bundle = (argv[0] === 'run' || argv[0] === 'step') && !process.env.ARCHIPEL_NO_BUNDLE ? freshBundle() : undefined;
if (bundle) {
  const { main } = await import(bundle);
  process.exitCode = await main(argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../platform/polyfills.ts');
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(argv);
}
