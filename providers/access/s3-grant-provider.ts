import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  InvalidInputError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
  describeError,
  silentLogger,
  systemClock,
  validateObjectKey,
  type Clock,
  type Logger,
} from '../../core/index.ts';
import { GRANT_ID, type GrantProvider, type PresignedReadAccess, type PresignedWriteAccess } from './grant-provider.ts';
import type { GrantTarget } from './grant-target.ts';

export interface S3GrantProviderOptions {
  /** The S3 service (AWS when unset); a target that names its own endpoint is signed for that one. */
  endpoint?: string;
  region?: string;
  /** The provider's own key: it signs the URLs, so URLs can do only what this key may do. */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  /** The most objects a data grant presigns (default 1000); past it the grant says `truncated`. */
  maxObjects?: number;
  /** The most upload URLs one storage grant may ask for (default 1000). */
  maxUploads?: number;
  clock?: Clock;
  logger?: Logger;
}

/** SigV4 presigned URLs live at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** The prefix of a storage grant under its target: `<target prefix>/grants/<id>/`. */
export function s3GrantPrefix(targetPrefix: string | undefined, id: string): string {
  const base = (targetPrefix ?? '').replace(/\/+$/, '');
  return `${base ? `${base}/` : ''}grants/${id}/`;
}

function translate(error: unknown, what: string): Error {
  if (error instanceof InvalidInputError || error instanceof NotFoundError) return error;
  if (error instanceof S3ServiceException && error.name === 'NoSuchBucket') return new NotFoundError(`${what}: the bucket does not exist`, { cause: error });
  const detail = error instanceof S3ServiceException ? `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})` : describeError(error);
  return new UnavailableError(`${what}: ${detail}`, { cause: error });
}

/**
 * S3 grants, by pre-signed URLs signed with the provider's key. Data: a GET URL per object of the source
 * prefix (listed when granted; objects added later are not covered) or of the one object it names.
 * Storage: a prefix of the grant's own under the target, and a PUT URL for each object name asked for.
 * Every URL expires with the grant (at most 7 days, SigV4's limit). S3 cannot recall a pre-signed URL
 * before it expires; revoking a storage grant aborts the uploads still pending under its prefix, and the
 * grants ledger records the revocation. Keep grants short where that matters.
 */
export function createS3GrantProvider(options: S3GrantProviderOptions = {}): GrantProvider & { close(): void } {
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({ component: 's3-grants' });
  const maxObjects = options.maxObjects ?? 1000;
  const maxUploads = options.maxUploads ?? 1000;
  if (!options.accessKeyId !== !options.secretAccessKey) {
    throw new InvalidInputError('invalid S3 grant provider options', [{ path: 'secretAccessKey', message: 'give accessKeyId and secretAccessKey together' }]);
  }
  const clients = new Map<string, S3Client>();
  const clientFor = (endpoint: string | undefined, region: string | undefined): S3Client => {
    const key = `${endpoint ?? options.endpoint ?? ''} ${region ?? options.region ?? 'us-east-1'}`;
    let client = clients.get(key);
    if (!client) {
      client = new S3Client({
        endpoint: endpoint ?? options.endpoint,
        region: region ?? options.region ?? 'us-east-1',
        forcePathStyle: options.forcePathStyle,
        credentials:
          options.accessKeyId && options.secretAccessKey ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } : undefined,
      });
      clients.set(key, client);
    }
    return client;
  };

  const lifetime = (expiresAt: Date): number => {
    const seconds = Math.ceil((expiresAt.getTime() - clock.now().getTime()) / 1000);
    if (!(seconds >= 1)) throw new InvalidInputError('the grant must expire in the future', [{ path: 'expiresAt', message: 'must be in the future' }]);
    return Math.min(seconds, MAX_PRESIGN_SECONDS);
  };

  async function grantRead(target: Extract<GrantTarget, { kind: 'data' }>, expiresAt: Date, signal?: AbortSignal): Promise<PresignedReadAccess> {
    const source = target.source;
    if (source.type !== 's3') throw new NotImplementedError(`the S3 grant provider cannot grant a ${source.type} source`);
    const prefix = source.prefix ?? '';
    if (prefix) validateObjectKey(prefix, { allowEmpty: true });
    const expiresIn = lifetime(expiresAt);
    const client = clientFor(source.endpoint, source.region);
    // The prefix names one object, or a "folder": `a/b` covers `a/b` and `a/b/...`, never `a/bc`.
    const covers = (key: string) => prefix === '' || prefix.endsWith('/') || key === prefix || key.startsWith(`${prefix}/`);
    const objects: { key: string; size: number }[] = [];
    let truncated = false;
    let token: string | undefined;
    try {
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: source.bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: 1000 }),
          { abortSignal: signal },
        );
        for (const object of page.Contents ?? []) {
          if (!object.Key || !covers(object.Key)) continue;
          if (objects.length === maxObjects) {
            truncated = true;
            break;
          }
          objects.push({ key: object.Key, size: object.Size ?? 0 });
        }
        token = page.IsTruncated && !truncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw translate(error, `cannot list s3://${source.bucket}/${prefix}`);
    }
    const signingDate = clock.now();
    return {
      type: 'presigned-read',
      bucket: source.bucket,
      prefix,
      truncated,
      objects: await Promise.all(
        objects.map(async (object) => ({
          ...object,
          url: await getSignedUrl(client, new GetObjectCommand({ Bucket: source.bucket, Key: object.key }), { expiresIn, signingDate }),
        })),
      ),
    };
  }

  async function grantWrite(
    id: string,
    target: Extract<GrantTarget, { kind: 'storage' }>,
    expiresAt: Date,
    names: readonly string[],
  ): Promise<PresignedWriteAccess> {
    const storage = target.target;
    if (storage.type !== 's3') throw new NotImplementedError(`the S3 grant provider cannot grant a ${storage.type} target`);
    if (names.length > maxUploads) throw new InvalidInputError(`at most ${maxUploads} upload URLs per grant`, [{ path: 'uploads', message: `at most ${maxUploads}` }]);
    names.forEach((name, i) => {
      try {
        validateObjectKey(name);
      } catch {
        throw new InvalidInputError(`invalid object name ${JSON.stringify(name)}`, [
          { path: `uploads.${i}`, message: 'must be a relative key without empty, "." or ".." segments' },
        ]);
      }
    });
    const expiresIn = lifetime(expiresAt);
    const client = clientFor(storage.endpoint, storage.region);
    const prefix = s3GrantPrefix(storage.prefix, id);
    const signingDate = clock.now();
    return {
      type: 'presigned-write',
      bucket: storage.bucket,
      prefix,
      uploads: await Promise.all(
        names.map(async (name) => ({
          name,
          key: prefix + name,
          url: await getSignedUrl(client, new PutObjectCommand({ Bucket: storage.bucket, Key: prefix + name }), { expiresIn, signingDate }),
        })),
      ),
    };
  }

  return {
    async grant(id, target, grantOptions) {
      if (!GRANT_ID.test(id)) throw new InvalidInputError(`invalid grant id "${id}"`);
      const access =
        target.kind === 'data'
          ? await grantRead(target, grantOptions.expiresAt, grantOptions.signal)
          : await grantWrite(id, target, grantOptions.expiresAt, grantOptions.uploads ?? []);
      logger.info('s3 grant created', { grant: id, kind: target.kind, bucket: access.bucket, prefix: access.prefix });
      return access;
    },

    async revoke(id, target, revokeOptions) {
      if (!GRANT_ID.test(id)) throw new InvalidInputError(`invalid grant id "${id}"`);
      if (target.kind !== 'storage' || target.target.type !== 's3') return; // read URLs lapse at their expiry
      const storage = target.target;
      const client = clientFor(storage.endpoint, storage.region);
      const prefix = s3GrantPrefix(storage.prefix, id);
      try {
        let keyMarker: string | undefined;
        let uploadIdMarker: string | undefined;
        do {
          const page = await client.send(
            new ListMultipartUploadsCommand({ Bucket: storage.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
            { abortSignal: revokeOptions?.signal },
          );
          for (const upload of page.Uploads ?? []) {
            if (upload.Key && upload.UploadId) {
              await client.send(new AbortMultipartUploadCommand({ Bucket: storage.bucket, Key: upload.Key, UploadId: upload.UploadId }), {
                abortSignal: revokeOptions?.signal,
              });
            }
          }
          keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
          uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
        } while (keyMarker);
      } catch (error) {
        // Some S3-compatible servers cannot list uploads: then there is nothing more to do here.
        if (!(error instanceof S3ServiceException && error.name === 'NotImplemented')) throw translate(error, `cannot revoke grant ${id}`);
      }
      logger.info('s3 grant revoked', { grant: id, bucket: storage.bucket, prefix });
    },

    close() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}
