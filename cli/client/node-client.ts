import {
  ConflictError,
  InternalError,
  InvalidInputError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  PayloadTooLargeError,
  UnavailableError,
  type ArchipelError,
  type InputIssue,
} from '../../core/index.ts';

/** A node's REST API as the client commands use it; the node's errors become the core taxonomy again. */
export interface NodeClient {
  readonly node: string;
  json<T>(method: string, route: string, body?: unknown): Promise<T>;
  /** A raw request (streams, downloads); a non-2xx answer throws like `json`. */
  request(method: string, route: string, init?: { body?: RequestInit['body']; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response>;
}

const BY_STATUS: Record<number, new (message: string) => ArchipelError> = {
  401: NotAuthenticatedError,
  403: NotAllowedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  503: UnavailableError,
};

async function failure(response: Response, what: string): Promise<ArchipelError> {
  const text = await response.text().catch(() => '');
  let message = text.trim() || response.statusText;
  let issues: InputIssue[] = [];
  try {
    const body = JSON.parse(text) as { error?: { message?: string; details?: { issues?: InputIssue[] } } };
    if (body.error?.message) message = body.error.message;
    issues = body.error?.details?.issues ?? [];
  } catch {
    // Not the node's JSON error body: the text is the message.
  }
  if (response.status === 400) return new InvalidInputError(message, issues);
  const Kind = BY_STATUS[response.status];
  return Kind ? new Kind(message) : new InternalError(`${what}: the node answered ${response.status}: ${message}`);
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
