import type { ConnectionGater, PeerId } from '@libp2p/interface';

/**
 * The connection gater that keeps blocked clusters out: their dials are not attempted, and their
 * connections are refused as soon as the encryption handshake has told who they are (inbound and
 * outbound), before any protocol runs.
 */
export function createBlockingGater(isBlocked: (clusterId: string) => boolean): ConnectionGater {
  const deny = (peerId: PeerId) => isBlocked(peerId.toString());
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny,
  };
}
