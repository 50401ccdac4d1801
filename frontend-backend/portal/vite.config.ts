import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

// `npm run build` (and `npm install`) writes the portal to dist/, which the node serves at `/`.
// `npx vite --config frontend-backend/portal/vite.config.ts` serves it with reloading, the API proxied to a node on 8080.
export default defineConfig({
  root: here,
  plugins: [react()],
  build: { outDir: path.join(here, 'dist'), emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: { host: '127.0.0.1', proxy: { '/api': 'http://127.0.0.1:8080' } },
  logLevel: 'warn',
});
