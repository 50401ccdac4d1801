import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/index.ts';
import { startS3rver, type S3rverHandle } from '../../platform/object-store/testing.ts';
import { createS3GrantProvider, s3GrantPrefix } from './s3-grant-provider.ts';

const grantee = { cluster: 'local', user: 'alice' };

describe('S3 grants (against s3rver)', () => {
  let server: S3rverHandle;
  let s3: S3Client;
  let now: number;
  const clock = { now: () => new Date(now) };
  let provider: ReturnType<typeof createS3GrantProvider>;

  beforeAll(async () => {
    server = await startS3rver();
    const connection = { endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, ...server.credentials };
    s3 = new S3Client({ ...connection, credentials: server.credentials });
    provider = createS3GrantProvider({ ...connection, clock });
    for (const [key, body] of [
      ['runs/a/one.txt', 'one'],
      ['runs/a/sub/two.txt', 'two'],
      ['runs/ab/other.txt', 'not granted'],
      ['top.txt', 'top'],
    ]) {
      await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: body }));
    }
  });
  afterAll(async () => {
    provider.close();
    s3.destroy();
    await server.stop();
  });

  it('presigns a GET URL for each object under the prefix, which works until it expires', async () => {
    now = Date.now();
    const access = await provider.grant(randomUUID(), { kind: 'data', source: { type: 's3', bucket: server.bucket, prefix: 'runs/a' } }, {
      grantee,
      expiresAt: new Date(now + 60_000),
    });
    if (access.type !== 'presigned-read') throw new Error(`unexpected access ${access.type}`);
    expect(access.objects.map((o) => o.key).sort()).toEqual(['runs/a/one.txt', 'runs/a/sub/two.txt']);
    expect(access.truncated).toBe(false);
    const one = access.objects.find((o) => o.key === 'runs/a/one.txt')!;
    expect(new URL(one.url).searchParams.get('X-Amz-Expires')).toBe('60');
    const response = await fetch(one.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('one');
    // The URL signs that object's path and the GET method (SigV4). s3rver 3.7 checks a presigned URL's
    // expiry but not its V4 signature, so that a changed path or method is refused is S3's part, not tested here.
    expect(new URL(one.url).pathname).toBe(`/${server.bucket}/runs/a/one.txt`);

    // Signed 3 seconds ago for 1 second (the shortest S3 allows): expired now.
    now = Date.now() - 3_000;
    const old = await provider.grant(randomUUID(), { kind: 'data', source: { type: 's3', bucket: server.bucket, prefix: 'top.txt' } }, {
      grantee,
      expiresAt: new Date(now + 1_000),
    });
    if (old.type !== 'presigned-read') throw new Error('unexpected access');
    expect(old.objects.map((o) => o.key)).toEqual(['top.txt']);
    const expired = await fetch(old.objects[0]!.url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/Request has expired/);
  });

  it('says when a prefix holds more objects than it presigns', async () => {
    now = Date.now();
    const small = createS3GrantProvider({ endpoint: server.endpoint, forcePathStyle: true, ...server.credentials, maxObjects: 1, clock });
    try {
      const access = await small.grant(randomUUID(), { kind: 'data', source: { type: 's3', bucket: server.bucket, prefix: 'runs/' } }, {
        grantee,
        expiresAt: new Date(now + 60_000),
      });
      expect(access).toMatchObject({ type: 'presigned-read', truncated: true });
      if (access.type === 'presigned-read') expect(access.objects).toHaveLength(1);
    } finally {
      small.close();
    }
  });

  it('gives a storage grant a prefix of its own and PUT URLs there; revoking is harmless', async () => {
    now = Date.now();
    const id = randomUUID();
    const target = { kind: 'storage' as const, target: { type: 's3' as const, bucket: server.bucket, prefix: 'outputs/' } };
    const access = await provider.grant(id, target, { grantee, expiresAt: new Date(now + 60_000), uploads: ['result.json', 'logs/step.txt'] });
    if (access.type !== 'presigned-write') throw new Error(`unexpected access ${access.type}`);
    expect(access.prefix).toBe(s3GrantPrefix('outputs/', id));
    expect(access.prefix).toBe(`outputs/grants/${id}/`);
    const upload = access.uploads.find((u) => u.name === 'result.json')!;
    expect(upload.key).toBe(`${access.prefix}result.json`);
    expect((await fetch(upload.url, { method: 'PUT', body: '{"ok":true}' })).status).toBe(200);
    const stored = await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: upload.key }));
    expect(await stored.Body!.transformToString()).toBe('{"ok":true}');
    expect(new URL(upload.url).pathname).toBe(`/${server.bucket}/outputs/grants/${id}/result.json`);

    await provider.revoke(id, target);
    await provider.revoke(id, target);

    await expect(provider.grant(randomUUID(), target, { grantee, expiresAt: new Date(now + 60_000), uploads: ['../escape'] })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(provider.grant(randomUUID(), target, { grantee, expiresAt: new Date(now - 1) })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
