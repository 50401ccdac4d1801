export type { AppEnv } from './app-env.ts';
export { createRouter, toInputIssues } from './create-router.ts';
export { createHttpApp, API_PREFIX, type HttpAppOptions } from './create-http-app.ts';
export { clientAddress } from './client-address.ts';
export { errorResponse, type ErrorBody } from './error-response.ts';
export { serveHttp, type HttpServerHandle } from './serve-http.ts';
export { ErrorSchema, errorResponses, jsonBody, jsonResponse } from './openapi-helpers.ts';
