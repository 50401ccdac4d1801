import { serve, type ServerType } from '@hono/node-server';
import { UnavailableError } from '../../core/index.ts';

export interface HttpServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (0 picks a free port); a port in use is an `UnavailableError` saying which.
 * `fetch` is also given @hono/node-server's bindings (`{ incoming, outgoing }`) as its second argument:
 * pass `app.fetch` itself, not `(request) => app.fetch(request)`, so that `clientAddress` sees the socket.
 */
export function serveHttp(
  fetch: (request: Request) => Response | Promise<Response>,
  options: { host: string; port: number },
): Promise<HttpServerHandle> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const message =
        error.code === 'EADDRINUSE'
          ? `HTTP port ${options.port} on ${options.host} is already in use (choose another with --http-port)`
          : error.code === 'EACCES'
            ? `not permitted to listen on ${options.host}:${options.port}`
            : `cannot listen on ${options.host}:${options.port}: ${error.message}`;
      reject(new UnavailableError(message, { cause: error }));
    };
    const server: ServerType = serve({ fetch, hostname: options.host, port: options.port }, (info) => {
      server.off('error', onError);
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            // Idle keep-alive sockets would otherwise hold close() open.
            (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      });
    });
    server.once('error', onError);
  });
}
