/**
 * Regenerates `generated/argo-api.d.ts` from Argo's Swagger 2.0 spec (`../shared/argo/swagger.json`).
 * openapi-typescript reads OpenAPI 3 only, so the spec goes through swagger2openapi first.
 * The output is checked in: CI and the build never run this. Run: `npm run generate:argo`.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import type { OpenAPI3 } from 'openapi-typescript';

interface Swagger2OpenApi {
  convertObj(spec: unknown, options: { patch?: boolean; warnOnly?: boolean }): Promise<{ openapi: OpenAPI3 }>;
}

// swagger2openapi is CommonJS without type declarations.
const swagger2openapi = createRequire(import.meta.url)('swagger2openapi') as Swagger2OpenApi;

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const specPath = path.resolve(repo, '../shared/argo/swagger.json');
const outPath = path.join(here, 'generated', 'argo-api.d.ts');

const swagger = JSON.parse(readFileSync(specPath, 'utf8')) as Record<string, unknown>;
// `patch` fixes small faults in the source (Argo's spec has none today) instead of failing.
const { openapi } = await swagger2openapi.convertObj(swagger, { patch: true, warnOnly: true });
const ast = await openapiTS(openapi, { silent: true });
const header = `${COMMENT_HEADER}// Source: ../shared/argo/swagger.json (argo-workflows v4.1.2), converted by swagger2openapi.\n// Regenerate with \`npm run generate:argo\`.\n\n`;

mkdirSync(path.dirname(outPath), { recursive: true });
writeFileSync(outPath, header + astToString(ast));
process.stdout.write(`wrote ${path.relative(repo, outPath)}\n`);
