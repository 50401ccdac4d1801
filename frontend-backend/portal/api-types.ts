import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import type { OpenAPI3 } from 'openapi-typescript';

/** Where the portal's API types live, relative to the repository. */
export const API_TYPES_PATH = 'frontend-backend/portal/src/api/schema.d.ts';

/**
 * The portal's TypeScript types for the node's OpenAPI document. Checked in; a test compares them with
 * what a running node's document gives, so a route that changed without them fails CI, and the portal's
 * type check then names every call the change breaks.
 */
export async function portalApiTypes(document: unknown): Promise<string> {
  const ast = await openapiTS(document as OpenAPI3, { silent: true });
  return `${COMMENT_HEADER}// Source: GET /api/v1/openapi.json of \`archipel up\`. Regenerate with \`npm run generate:portal-api\`.\n\n${astToString(ast)}`;
}
