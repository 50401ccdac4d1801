import { ApiException } from '@kubernetes/client-node';
import {
  ConflictError,
  InternalError,
  InvalidInputError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  PayloadTooLargeError,
  ResourceExpiredError,
  UnavailableError,
  isArchipelError,
} from '../../core/index.ts';

/** The API server's `Status` object, as far as errors need it. */
interface Status {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/**
 * A failure of the client library as a core error, the original kept as `cause`: the API server's Status
 * (400/422 invalid input, 401 not authenticated, 403 not allowed, 404, 409, 410, 413, 429 and 5xx
 * unavailable) by its code, a network failure as unavailable. An abort is passed on as it is.
 */
export function translateKubernetesError(error: unknown): Error {
  if (isArchipelError(error)) return error;
  if (error instanceof ApiException) {
    const code = error.code as number;
    return byCode(code, parseStatus(error.body), `Kubernetes API answered ${code}`, error);
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  const fields = (typeof error === 'object' && error !== null ? error : {}) as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof fields.statusCode === 'number') return byCode(fields.statusCode, undefined, `Kubernetes API answered ${fields.statusCode}`, error);
  const message = typeof fields.message === 'string' ? fields.message : String(error);
  return new UnavailableError(`Kubernetes API unreachable: ${message}`, { cause: error, details: typeof fields.code === 'string' ? { code: fields.code } : {} });
}

/** A Status sent as a watch ERROR event, as a core error. */
export function translateStatus(object: unknown, fallback: string): Error {
  const status = (object ?? {}) as Status;
  return byCode(status.code ?? 500, status, fallback, status);
}

function byCode(code: number, status: Status | undefined, fallback: string, cause: unknown): Error {
  const message = status?.message || fallback;
  const options = { cause, details: { code, ...(status?.reason ? { reason: status.reason } : {}) } };
  if (code === 400 || code === 422) {
    const issues = (status?.details?.causes ?? []).map((c) => ({ path: c.field ?? '', message: c.message ?? '', reason: c.reason ?? '' }));
    return new InvalidInputError(message, issues, options);
  }
  if (code === 401) return new NotAuthenticatedError(message, options);
  if (code === 403) return new NotAllowedError(message, options);
  if (code === 404) return new NotFoundError(message, options);
  if (code === 409) return new ConflictError(message, options);
  if (code === 410) return new ResourceExpiredError(message, options);
  if (code === 413) return new PayloadTooLargeError(message, options);
  if (code === 429 || code >= 500) return new UnavailableError(message, options);
  return new InternalError(`${message} (HTTP ${code})`, options);
}

function parseStatus(body: unknown): Status | undefined {
  if (typeof body === 'object' && body !== null) return body as Status;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Status) : undefined;
  } catch {
    return undefined;
  }
}
