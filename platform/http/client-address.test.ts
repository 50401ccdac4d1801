import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-address.ts';
import { serveHttp } from './serve-http.ts';

const app = new Hono();
app.get('/whoami', (c) => c.json({ address: clientAddress(c) ?? null }));

describe('clientAddress', () => {
  it("is the socket's remote address, whatever X-Forwarded-For says", async () => {
    const server = await serveHttp(app.fetch, { host: '127.0.0.1', port: 0 });
    try {
      const plain = await fetch(`${server.url}/whoami`);
      expect(await plain.json()).toEqual({ address: '127.0.0.1' });
      const forged = await fetch(`${server.url}/whoami`, { headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Real-IP': '203.0.113.9' } });
      expect(await forged.json()).toEqual({ address: '127.0.0.1' });
    } finally {
      await server.close();
    }
  });

  it('gives an IPv4 client of a dual-stack listener its IPv4 address', async () => {
    const bindings = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });
    expect(await (await app.request('/whoami', {}, bindings('::ffff:192.0.2.1'))).json()).toEqual({ address: '192.0.2.1' });
    expect(await (await app.request('/whoami', {}, bindings('2001:db8::1'))).json()).toEqual({ address: '2001:db8::1' });
  });

  it('is undefined when the request came through no socket', async () => {
    expect(await (await app.request('/whoami')).json()).toEqual({ address: null });
  });
});
