import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/index.ts';
import { signFields } from '../../discovery/index.ts';
import { CATALOG_REQUEST_DOMAIN, signGetRequest, signSearchRequest, verifyGetRequest, verifySearchRequest, type SearchRequest, type UnsignedSearchRequest } from './catalog-protocol.ts';

const NOW = new Date('2026-11-22T10:00:00Z');
const clock: Clock = { now: () => new Date(NOW) };

describe('catalog search requests', () => {
  let key: PrivateKey;
  let requester: string;
  let responder: string;
  let other: PrivateKey;
  const sign = (k: PrivateKey) => (domain: string, fields: readonly unknown[]) => signFields(k, domain, fields);
  const unsigned = (overrides: Partial<UnsignedSearchRequest> = {}): UnsignedSearchRequest => ({
    from: requester,
    to: responder,
    q: 'sea temperatures',
    kind: 'data',
    user: 'rita',
    projects: [`${requester}/lab`],
    limit: 50,
    deadline: NOW.getTime() + 3000,
    ...overrides,
  });
  const verify = (request: unknown, from = requester) => verifySearchRequest(request, { from, to: responder, clock });

  beforeAll(async () => {
    key = await generateKeyPair('Ed25519');
    requester = peerIdFromPrivateKey(key).toString();
    other = await generateKeyPair('Ed25519');
    responder = peerIdFromPrivateKey(other).toString();
  });

  it('accepts a request signed by the connected cluster, meant for this one, before its deadline', async () => {
    const request = await signSearchRequest(sign(key), unsigned());
    expect(await verify(request)).toEqual({ ok: true, request });
    // It survives the trip as JSON (what the stream carries); a request without a kind too.
    expect((await verify(JSON.parse(JSON.stringify(request)))).ok).toBe(true);
    expect((await verify(await signSearchRequest(sign(key), unsigned({ kind: undefined })))).ok).toBe(true);
  });

  it('accepts a get request on the same terms, and never a search signature as a get', async () => {
    const get = { from: requester, to: responder, entryId: '6f1d1a3e-0f5b-4b7e-9a53-2f1c2d3e4f50', user: 'rita', projects: [`${requester}/lab`], deadline: NOW.getTime() + 3000 };
    const signed = await signGetRequest(sign(key), get);
    expect(await verifyGetRequest(signed, { from: requester, to: responder, clock })).toEqual({ ok: true, request: signed });
    expect((await verifyGetRequest({ ...signed, entryId: '6f1d1a3e-0f5b-4b7e-9a53-2f1c2d3e4f51' }, { from: requester, to: responder, clock })).ok).toBe(false);
    // The same fields signed in the search domain do not pass as a get.
    const crossed = { ...get, signature: await signFields(key, CATALOG_REQUEST_DOMAIN, [get.from, get.to, get.entryId, get.user, get.projects, get.deadline]) };
    expect((await verifyGetRequest(crossed, { from: requester, to: responder, clock })).ok).toBe(false);
    expect((await verifyGetRequest(signed, { from: responder, to: responder, clock })).ok).toBe(false);
  });

  it('refuses any changed field: the user, the projects, the query, the deadline', async () => {
    const request = await signSearchRequest(sign(key), unsigned());
    const tampered: SearchRequest[] = [
      { ...request, user: 'admin' },
      { ...request, projects: [...request.projects, `${requester}/other`] },
      { ...request, q: '' },
      { ...request, kind: 'service' },
      { ...request, limit: 200 },
      { ...request, deadline: request.deadline + 1 },
    ];
    for (const t of tampered) expect(await verify(t)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses a request signed by another key than the connected cluster', async () => {
    // Signed by the responder's key, but claiming (and arriving from) the requester.
    const forged = await signSearchRequest(sign(other), unsigned());
    expect(await verify(forged)).toEqual({ ok: false, reason: 'bad signature' });
    // The genuine request, relayed by another cluster: the sender is not the signer.
    const genuine = await signSearchRequest(sign(key), unsigned());
    expect(await verify(genuine, responder)).toEqual({ ok: false, reason: 'the sender is not the connected cluster' });
  });

  it('refuses a request meant for another cluster', async () => {
    const request = await signSearchRequest(sign(key), unsigned({ to: requester }));
    expect(await verify(request)).toEqual({ ok: false, reason: 'the request is meant for another cluster' });
  });

  it('refuses a stale request and one whose deadline is too far ahead, allowing some clock skew', async () => {
    const expired = await signSearchRequest(sign(key), unsigned({ deadline: NOW.getTime() - 60_000 }));
    expect(await verify(expired)).toEqual({ ok: false, reason: 'the request has expired' });
    const skewed = await signSearchRequest(sign(key), unsigned({ deadline: NOW.getTime() - 2_000 }));
    expect((await verify(skewed)).ok).toBe(true);
    const far = await signSearchRequest(sign(key), unsigned({ deadline: NOW.getTime() + 10 * 60_000 }));
    expect(await verify(far)).toEqual({ ok: false, reason: 'the deadline is too far ahead' });
  });

  it('refuses malformed requests', async () => {
    const request = await signSearchRequest(sign(key), unsigned());
    for (const bad of [null, 'x', { ...request, extra: 1 }, { ...request, projects: ['not a project id'] }, { ...request, limit: 10_000 }]) {
      expect(await verify(bad)).toEqual({ ok: false, reason: 'malformed request' });
    }
  });
});
