import { createHash, randomBytes } from 'node:crypto';

/**
 * API tokens are 32 random bytes, so a fast hash (SHA-256) is enough to store them: unlike passwords
 * they cannot be guessed from a dictionary. The `arc_` prefix makes leaked tokens easy to scan for.
 */
const TOKEN_PREFIX = 'arc_';
const SHOWN_PREFIX_LENGTH = TOKEN_PREFIX.length + 8;

export function generateTokenSecret(): { secret: string; prefix: string; hash: string } {
  const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { secret, prefix: secret.slice(0, SHOWN_PREFIX_LENGTH), hash: hashTokenSecret(secret) };
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
