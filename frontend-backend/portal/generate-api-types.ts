/**
 * Regenerates `src/api/schema.d.ts` from the OpenAPI document of a node started for the purpose (a fresh
 * data directory, removed afterwards). Run: `npm run generate:portal-api`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_TYPES_PATH, portalApiTypes } from './api-types.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'archipel-openapi-'));
const node = spawn(process.execPath, [path.join(repo, 'bin/archipel.js'), 'up', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0', '--log-level', 'warn'], {
  env: { ...process.env, ARCHIPEL_LOG_FORMAT: 'json' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    node.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /API:\s+(http:\/\/\S+)\/api\/v1/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    node.on('exit', (code) => reject(new Error(`archipel up exited with ${code} before serving:\n${out}`)));
  });
  const answer = await fetch(`${url}/api/v1/openapi.json`);
  if (!answer.ok) throw new Error(`GET /api/v1/openapi.json answered ${answer.status}`);
  writeFileSync(path.join(repo, API_TYPES_PATH), await portalApiTypes(await answer.json()));
  process.stdout.write(`wrote ${API_TYPES_PATH}\n`);
} finally {
  node.kill('SIGTERM');
  await new Promise((resolve) => node.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
