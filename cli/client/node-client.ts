import {
  ConflictError,
  InternalError,
  InvalidInputError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  NotImplementedError,
  PayloadTooLargeError,
  TooManyRequestsError,
  UnavailableError,
  type ArchipelError,
  type ErrorKind,
  type InputIssue,
} from '../../core/index.ts';

/** A node's REST API as the client commands use it; the node's errors become the core taxonomy again. */
export interface NodeClient {
  readonly node: string;
  json<T>(method: string, route: string, body?: unknown): Promise<T>;
  /** A raw request (streams, downloads); a non-2xx answer throws like `json`. */
  request(method: string, route: string, init?: { body?: RequestInit['body']; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response>;
}

/** The node's error bodies carry the taxonomy's kind as `code` (platform/http/error-response.ts): the same class again. */
const BY_KIND: Record<Exclude<ErrorKind, 'invalid-input'>, new (message: string) => ArchipelError> = {
  'not-authenticated': NotAuthenticatedError,
  'not-allowed': NotAllowedError,
  'not-found': NotFoundError,
  conflict: ConflictError,
  'payload-too-large': PayloadTooLargeError,
  'too-many-requests': TooManyRequestsError,
  unavailable: UnavailableError,
  'not-implemented': NotImplementedError,
  internal: InternalError,
};

async function failure(response: Response, what: string): Promise<ArchipelError> {
  const text = await response.text().catch(() => '');
  let message = text.trim() || response.statusText;
  let code: string | undefined;
  let issues: InputIssue[] = [];
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: { issues?: InputIssue[] } } };
    if (body.error?.message) message = body.error.message;
    code = body.error?.code;
    issues = body.error?.details?.issues ?? [];
  } catch {
    // Not the node's JSON error body: the text is the message.
  }
  if (code === 'invalid-input' || (code === undefined && response.status === 400)) return new InvalidInputError(message, issues);
  const Kind = code !== undefined ? BY_KIND[code as keyof typeof BY_KIND] : undefined;
  if (Kind) return new Kind(message);
  // Not the node's own answer (a proxy in between, say): only a 503 says to try again.
  const Fallback = response.status === 503 ? UnavailableError : InternalError;
  return new Fallback(`${what}: the node answered ${response.status}: ${message}`);
}

export function createNodeClient(options: { node: string; token: string; fetch?: typeof fetch }): NodeClient {
  const doFetch = options.fetch ?? fetch;
  const request: NodeClient['request'] = async (method, route, init = {}) => {
    let response: Response;
    try {
      response = await doFetch(`${options.node}/api/v1${route}`, {
        method,
        headers: { Authorization: `Bearer ${options.token}`, ...init.headers },
        ...(init.body !== undefined ? { body: init.body, duplex: 'half' } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      } as RequestInit);
    } catch (error) {
      throw new UnavailableError(`cannot reach the node at ${options.node}: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok) throw await failure(response, `${method} ${route}`);
    return response;
  };
  return {
    node: options.node,
    request,
    async json<T>(method: string, route: string, body?: unknown): Promise<T> {
      const response = await request(method, route, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
      return (response.status === 204 ? undefined : await response.json()) as T;
    },
  };
}
