/*
 * Behaviour both adapters share beyond what the port states, so that an object looks the same
 * whichever adapter stored it.
 */

/** Reported for objects stored without a content type (S3 would otherwise say `binary/octet-stream`). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** S3's key order: by UTF-8 bytes (JavaScript's `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
