// Federated runs: a peered cluster runs steps of this cluster's runs, and reads and writes their objects here.
export {
  CHUNK_BYTES,
  RUN_OBJECTS_PROTOCOL,
  RUN_OBJECTS_REQUEST_DOMAIN,
  runObjectsProtocol,
  type RunObjectsRequest,
  type RunObjectsRequesterOptions,
} from './run-objects-protocol.ts';
export { createRemoteObjectStore, type RemoteObjectStoreOptions } from './remote-object-store.ts';
export { createRunObjectsResponder, type ObjectAccess, type RunObjectsResponder, type RunObjectsResponderOptions } from './run-objects-responder.ts';
export { createExecutionFederation, type ExecutionFederation, type ExecutionFederationOptions } from './execution-federation.ts';
export { EXECUTION_PROTOCOL, executionProtocol, originStoreUrl, parseOriginStoreUrl, type ExecutionRequest, type ExecutionStatus } from './execution-protocol.ts';
export { admitTemplate, createExecutionResponder, executionRunName, type HeldReservation } from './execution-responder.ts';
export { createRemotePods, executionId, type ExecutionContext, type RemotePods } from './remote-pods.ts';
