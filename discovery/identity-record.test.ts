import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../core/index.ts';
import { signIdentityRecord, verifyIdentityRecord, type IdentityRecord } from './identity-record.ts';

const now = new Date('2026-11-22T12:00:00Z');
const clock: Clock = { now: () => now };
const later = (ms: number): Clock => ({ now: () => new Date(now.getTime() + ms) });

describe('signed identity records', () => {
  let key: PrivateKey;
  let clusterId: string;
  let record: IdentityRecord;

  beforeAll(async () => {
    key = await generateKeyPair('Ed25519');
    clusterId = peerIdFromPrivateKey(key).toString();
    record = await signIdentityRecord(key, {
      clusterId,
      name: 'lab-one',
      description: 'the first lab',
      apiEndpoint: 'https://lab-one.example/api',
      capabilities: ['catalog', 'compute'],
      sequence: 3,
      expiresAt: '2026-11-23T12:00:00Z',
    });
  });

  it('accepts a record signed by the key of the cluster id it names', async () => {
    expect(record.signature).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(await verifyIdentityRecord(record, { clock })).toEqual({ accepted: true, record });
    expect(await verifyIdentityRecord(JSON.parse(JSON.stringify(record)), { clock })).toMatchObject({ accepted: true });
  });

  it('drops a record changed after signing, field by field', async () => {
    const changes: Partial<IdentityRecord>[] = [
      { name: 'lab-two' },
      { description: 'changed' },
      { apiEndpoint: 'https://evil.example/api' },
      { capabilities: ['catalog'] },
      { sequence: 4 },
      { expiresAt: '2027-11-23T12:00:00Z' },
    ];
    for (const change of changes) {
      expect(await verifyIdentityRecord({ ...record, ...change }, { clock }), JSON.stringify(change)).toEqual({ accepted: false, reason: 'bad-signature' });
    }
    const { description: _dropped, ...withoutDescription } = record;
    expect(await verifyIdentityRecord(withoutDescription, { clock })).toMatchObject({ reason: 'bad-signature' });
  });

  it('drops a record whose cluster id is not the signing key', async () => {
    const other = await generateKeyPair('Ed25519');
    const claimed = await signIdentityRecord(other, { ...record, clusterId });
    expect(await verifyIdentityRecord(claimed, { clock })).toEqual({ accepted: false, reason: 'bad-signature' });
    const ownId = peerIdFromPrivateKey(other).toString();
    expect(await verifyIdentityRecord({ ...claimed, clusterId: ownId }, { clock })).toMatchObject({ reason: 'bad-signature' });
    expect(await verifyIdentityRecord(record, { clock, expectedClusterId: ownId })).toMatchObject({ reason: 'unexpected-cluster' });
  });

  it('drops a record past its expiry, by the injected clock', async () => {
    expect(await verifyIdentityRecord(record, { clock: later(23 * 3600_000) })).toMatchObject({ accepted: true });
    expect(await verifyIdentityRecord(record, { clock: later(24 * 3600_000) })).toEqual({ accepted: false, reason: 'expired' });
  });

  it('drops an older or equal sequence than the record already held', async () => {
    const newer = await signIdentityRecord(key, { ...record, name: 'renamed', sequence: 4 });
    expect(await verifyIdentityRecord(newer, { clock, current: record })).toMatchObject({ accepted: true });
    expect(await verifyIdentityRecord(record, { clock, current: newer })).toEqual({ accepted: false, reason: 'stale' });
    expect(await verifyIdentityRecord(record, { clock, current: record })).toEqual({ accepted: false, reason: 'unchanged' });
    const sameSequence = await signIdentityRecord(key, { ...record, name: 'other' });
    expect(await verifyIdentityRecord(sameSequence, { clock, current: record })).toEqual({ accepted: false, reason: 'stale' });
  });

  it('drops malformed records', async () => {
    for (const bad of [null, 'record', { ...record, name: '' }, { ...record, sequence: -1 }, { ...record, extra: 1 }, { ...record, clusterId: 'not base58 0OIl' }, { ...record, signature: '!!' }]) {
      const verdict = await verifyIdentityRecord(bad, { clock });
      expect(verdict.accepted).toBe(false);
    }
  });
});
