import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The address of the peer of the request's TCP connection, as the socket reports it (an IPv4 client of a
 * dual-stack listener, `::ffff:192.0.2.1`, is `192.0.2.1`). Headers such as `X-Forwarded-For` are not
 * read: any client can write them, and no option says a proxy in front of the node may be believed.
 * Behind a reverse proxy every request therefore has the proxy's address.
 *
 * Undefined when the request did not come through `serveHttp` (`app.request()` in tests without node
 * bindings) or the socket is already gone.
 */
export function clientAddress(c: Context): string | undefined {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    // No `incoming` socket in the bindings: the app was not called by @hono/node-server.
    return undefined;
  }
  if (!address) return undefined;
  return IPV4_MAPPED.exec(address)?.[1] ?? address;
}
