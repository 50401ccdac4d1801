// The discovery component: this node's member of the private libp2p federation (keys, identity
// records, peer tracking, peering by consent) and the helpers later application protocols build on.
export {
  createDiscoveryAgent,
  guardPeered,
  DEFAULT_TIMING,
  IDENTITY_PROTOCOL,
  PEERING_PROTOCOL,
  SWARM_OBJECT_NAME,
  type DiscoveryAgent,
  type DiscoveryAgentOptions,
  type DiscoveryService,
  type DiscoveryTiming,
  type LocalIdentity,
  type PeerView,
  type PeeredProtocols,
  type PeeringEndedHandler,
  type SwarmInfo,
  type BootstrapProblem,
} from './discovery-agent.ts';
export { generateSwarmKey, parseSwarmKey, swarmKeyFingerprint, encodeSwarmKey, type SwarmKey } from './swarm-key.ts';
export { signIdentityRecord, verifyIdentityRecord, type IdentityRecord, type RecordVerdict } from './identity-record.ts';
export { exchangeJson, raceAbort, serveJson, type JsonExchangeOptions } from './json-protocol.ts';
export { askPeer, peerRefusal } from './peer-exchange.ts';
export {
  DEFAULT_MAX_SKEW_MS,
  definePeerProtocol,
  type PeerNetwork,
  type PeerProtocol,
  type PeerProtocolSpec,
  type PeerRefusal,
  type PeerTransport,
  type RequestBody,
  type Signer,
} from './peer-protocol.ts';
export { signFields, verifyFields } from './signing.ts';
export { refuseSignedRequest, type SignedRequestCheck, type SignedRequestEnvelope } from './signed-request.ts';
export { parseClusterId, clusterResourceName, CLUSTER_ID_PATTERN, ClusterIdSchema } from './peer-names.ts';
export { policyApproves, type PeerState, type PeeringEndReason, type PeeringPolicy } from './peering-state.ts';
export { KAD_PROTOCOL } from './libp2p-node.ts';
