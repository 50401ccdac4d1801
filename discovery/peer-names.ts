import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { z } from 'zod';
import { InvalidInputError } from '../core/index.ts';

/** A cluster id's characters (base58btc) and length, for schemas; `parseClusterId` checks it fully. */
export const CLUSTER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/;
/** A cluster id in the messages of the federation's protocols. */
export const ClusterIdSchema = z.string().regex(CLUSTER_ID_PATTERN);

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
