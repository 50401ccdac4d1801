import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { InvalidInputError } from '../core/index.ts';

/** Parses a cluster id (a libp2p peer id, base58btc), or `InvalidInputError`. */
export function parseClusterId(clusterId: string, path = 'clusterId'): PeerId {
  try {
    const peerId = peerIdFromString(clusterId);
    if (peerId.toString() === clusterId && peerId.publicKey) return peerId;
  } catch {
    // reported below
  }
  throw new InvalidInputError(`${JSON.stringify(clusterId)} is not a cluster id (a libp2p peer id such as 12D3KooW...)`, [
    { path, message: 'not a libp2p peer id with an embedded public key' },
  ]);
}

/**
 * The resource name of a cluster's `Peer` (and `Identity`) object. Object names must be lowercase DNS
 * subdomains and peer ids are case-sensitive base58, so the name is the peer id as a base32 CID
 * (`bafz...`), which is lowercase and converts back; the object keeps the peer id in `spec.clusterId`.
 */
export function clusterResourceName(clusterId: string): string {
  return parseClusterId(clusterId).toCID().toString();
}
