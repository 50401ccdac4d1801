// Builds the web portal (frontend-backend/portal/dist), which the node serves at `/`. Run by `npm install`
// (prepare) and `npm run build`. A build error fails loudly; an install without dev dependencies (no
// Vite) only warns: the node then answers `/` with a page saying how to build the portal.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let vite;
try {
  vite = await import('vite');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write('archipel: Vite is not installed (dev dependencies omitted): the web portal is not built; run `npm install` then `npm run build`\n');
  process.exit(0);
}
await vite.build({ configFile: path.join(root, 'frontend-backend/portal/vite.config.ts') });
