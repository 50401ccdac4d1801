import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Run = Schemas['Run'];
export type RunStep = Schemas['RunStep'];
export type CatalogEntry = Schemas['CatalogEntry'];
export type ToolParameter = Schemas['ToolParameter'];
export type Peer = Schemas['Peer'];

const TOKEN_KEY = 'archipel.token';

/** The signed-in user's token, kept for the browser tab (never in a cookie: the API takes bearer tokens only). */
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn(token: string) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    window.dispatchEvent(new Event('archipel:signed-out'));
  },
};

/** An answer of the API that was not a success, in the words the API gave. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The bad fields the API named (`details.issues`), as "field: problem". */
  get issues(): string[] {
    const issues = this.details.issues;
    if (!Array.isArray(issues)) return [];
    return issues.map((i: { path?: unknown; message?: unknown }) => `${Array.isArray(i.path) ? i.path.join('.') : String(i.path ?? '')}: ${String(i.message ?? '')}`);
  }
}

/** The typed client of the node's API: every path and body is checked against the node's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: '' });
api.use({
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    // An expired or revoked token: back to the login page.
    if (response.status === 401 && session.token() && !response.url.endsWith('/auth/login')) session.signOut();
    return response;
  },
});

/** The data of an openapi-fetch answer, or an ApiError with the API's own message. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) throw toApiError(response.status, error);
  return data as T;
}

export function toApiError(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
  return new ApiError(status, e?.code ?? 'error', e?.message ?? `the node answered ${status}`, e?.details ?? {});
}

/** A raw authenticated request, for what openapi-fetch does not model (streams, downloads, uploads). */
export async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = session.token();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  const response = await fetch(url, { ...init, headers });
  if (!response.ok) {
    if (response.status === 401 && token) session.signOut();
    throw toApiError(response.status, await response.json().catch(() => undefined));
  }
  return response;
}

/** Uploads a file for a run's inputs (`POST /files`); answers the location a job names it by. */
export async function uploadFile(file: File, project: string, signal?: AbortSignal): Promise<Schemas['UploadedFile']> {
  const query = new URLSearchParams({ name: file.name, project });
  const response = await authorizedFetch(`/api/v1/files?${query}`, { method: 'POST', body: file, headers: { 'Content-Type': 'application/octet-stream' }, ...(signal ? { signal } : {}) });
  return (await response.json()) as Schemas['UploadedFile'];
}

/** Saves what a URL of the API answers as a file in the browser (downloads need the token, so no plain link). */
export async function download(url: string, name: string): Promise<void> {
  const blob = await (await authorizedFetch(url)).blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
