import { describe, expect, it } from 'vitest';
import { isHandshakeFailure } from './libp2p-node.ts';

/** libp2p's upgrader keeps only the message of what failed inside the handshake. */
const encryptionFailed = (message: string) => Object.assign(new Error(message), { name: 'EncryptionFailedError' });

describe('isHandshakeFailure', () => {
  it('recognises a handshake that failed, in the error, its causes or an aggregate', () => {
    expect(isHandshakeFailure(encryptionFailed('read ECONNRESET'))).toBe(true);
    expect(isHandshakeFailure(new Error('dial failed', { cause: encryptionFailed('Invalid message') }))).toBe(true);
    expect(isHandshakeFailure(new AggregateError([new Error('ECONNREFUSED'), encryptionFailed('read ECONNRESET')]))).toBe(true);
  });

  it('does not blame the swarm key for a deadline, a refused connection or anything else', () => {
    expect(isHandshakeFailure(encryptionFailed('The operation was aborted due to timeout'))).toBe(false);
    expect(isHandshakeFailure(encryptionFailed('This operation was aborted'))).toBe(false);
    expect(isHandshakeFailure(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe(false);
    expect(isHandshakeFailure(undefined)).toBe(false);
  });
});
