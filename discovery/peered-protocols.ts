import type { PrivateKey, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface';
import { InvalidInputError, NotAllowedError, UnavailableError, describeError, type Logger } from '../core/index.ts';
import type { BackgroundTasks } from './background-tasks.ts';
import type { DiscoveryTiming } from './discovery-timing.ts';
import { IDENTITY_RECORD_DOMAIN } from './identity-record.ts';
import type { FederationLibp2p } from './libp2p-node.ts';
import { parseClusterId } from './peer-names.ts';
import type { PeerTable } from './peer-table.ts';
import { PEERING_DOMAIN } from './peering-messages.ts';
import { signFields } from './signing.ts';

/** What later application protocols (catalog search, reservations, ...) use. */
export interface PeeredProtocols {
  clusterId(): string;
  isPeered(clusterId: string): boolean;
  /** Serves `protocol` to peered clusters only; other callers' streams are reset. */
  handlePeered(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>;
  /** Opens a stream to a peered cluster, or `NotAllowedError`. */
  openPeeredStream(clusterId: string, protocol: string, options: { signal: AbortSignal }): Promise<Stream>;
  /**
   * Signs `fields` with this cluster's key (base64), for messages of an application protocol; `domain`
   * names the kind of message (`archipel-<name>/<version>`) so that no signature passes as another kind.
   * Others check it with `verifyFields(clusterId, domain, fields, signature)`.
   */
  sign(domain: string, fields: readonly unknown[]): Promise<string>;
}

/**
 * Wraps a stream handler so that only clusters for which `isPeered` holds may use it: for everyone
 * else the stream is reset before the handler sees it.
 */
export function guardPeered(isPeered: (clusterId: string) => boolean, handler: StreamHandler, logger?: Logger): StreamHandler {
  return (stream, connection) => {
    const clusterId = connection.remotePeer.toString();
    if (!isPeered(clusterId)) {
      logger?.debug('stream refused: cluster is not peered', { clusterId, protocol: stream.protocol });
      stream.abort(new Error('not peered'));
      return;
    }
    return handler(stream, connection);
  };
}

export interface PeeredProtocolsDeps {
  logger: Logger;
  timing: DiscoveryTiming;
  table: Pick<PeerTable, 'stateOf'>;
  tasks: Pick<BackgroundTasks, 'deadline'>;
  /** The libp2p node, or `UnavailableError` when the agent is not running. */
  running(): FederationLibp2p;
  selfId(): string;
  privateKey(): PrivateKey;
}

export function createPeeredProtocols(deps: PeeredProtocolsDeps): PeeredProtocols {
  const { logger, timing, table, tasks, running } = deps;
  const protocols: PeeredProtocols = {
    clusterId: () => {
      running();
      return deps.selfId();
    },
    isPeered: (clusterId) => table.stateOf(clusterId) === 'peered',
    async handlePeered(protocol, handler, handlerOptions) {
      await running().handle(protocol, guardPeered(protocols.isPeered, handler, logger), handlerOptions);
    },
    async openPeeredStream(clusterId, protocol, { signal }) {
      const libp2p = running();
      if (!protocols.isPeered(clusterId)) throw new NotAllowedError(`cluster ${clusterId} is not peered with this one`);
      try {
        return await libp2p.dialProtocol(parseClusterId(clusterId), protocol, { signal: tasks.deadline(timing.requestTimeoutMs, signal) });
      } catch (error) {
        throw new UnavailableError(`cannot reach cluster ${clusterId}: ${describeError(error)}`, { cause: error });
      }
    },
    async sign(domain, fields) {
      running();
      if (domain === PEERING_DOMAIN || domain === IDENTITY_RECORD_DOMAIN) {
        throw new InvalidInputError(`domain "${domain}" is reserved for discovery's own messages`);
      }
      return signFields(deps.privateKey(), domain, fields);
    },
  };
  return protocols;
}
