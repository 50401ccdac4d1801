import { isIP } from 'node:net';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht';
import { ping, type Ping } from '@libp2p/ping';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import type { ComponentLogger, ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface';
import type { Identify } from '@libp2p/identify';
import { createLibp2p } from 'libp2p';
import { UnavailableError } from '../core/index.ts';

/** The DHT's protocol id: private, so Archipel nodes never mix with the public IPFS DHT. */
export const KAD_PROTOCOL = '/archipel/kad/1.0.0';

export type FederationLibp2p = Libp2p<{ identify: Identify; ping: Ping; dht: KadDHT }>;

export interface FederationLibp2pOptions {
  privateKey: PrivateKey;
  /** The swarm key file's text (`/key/swarm/psk/1.0.0/...`). */
  swarmKeyText: string;
  /** An IP address to listen on (IPv4 or IPv6). */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Multiaddrs to announce instead of the listen addresses (behind NAT, ...). */
  announce?: string[];
  gater: ConnectionGater;
  dialTimeoutMs: number;
  /** How often the DHT looks up its own id to refresh its view of the network. */
  querySelfIntervalMs: number;
  /** How often each connection is pinged (its round-trip time is kept; a failed ping closes it). */
  pingIntervalMs: number;
  logger?: ComponentLogger;
}

export function listenAddress(host: string, port: number): string {
  const family = isIP(host);
  if (family === 0) throw new UnavailableError(`p2p host ${JSON.stringify(host)} is not an IP address`);
  return `/ip${family}/${host}/tcp/${port}`;
}

/**
 * A libp2p node for a private federation, not yet started: TCP, Noise, Yamux, the pre-shared key
 * protector, identify, ping, and the Kademlia DHT in server mode on a private protocol id that keeps
 * private and loopback addresses (the library's defaults are for the public IPFS network).
 */
export async function createFederationLibp2p(options: FederationLibp2pOptions): Promise<FederationLibp2p> {
  return createLibp2p({
    start: false,
    privateKey: options.privateKey,
    addresses: {
      listen: [listenAddress(options.host, options.port)],
      ...(options.announce?.length ? { announce: options.announce } : {}),
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk: new TextEncoder().encode(options.swarmKeyText.trimEnd()) }),
    connectionGater: options.gater,
    connectionManager: {
      // Federation tests and small sites run many nodes behind one address: the default of 5 inbound
      // connections per second per host would drop most of them.
      inboundConnectionThreshold: 1000,
      maxIncomingPendingConnections: 64,
      maxConnections: 512,
      dialTimeout: options.dialTimeoutMs,
    },
    connectionMonitor: { pingInterval: options.pingIntervalMs },
    services: {
      identify: identify(),
      // The connection monitor, the DHT's routing-table checks and callers share this protocol: with the
      // default of one outbound stream per connection, one of them fails, and the monitor then closes a
      // healthy connection.
      ping: ping({ maxInboundStreams: 8, maxOutboundStreams: 8 }),
      dht: kadDHT({
        protocol: KAD_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        initialQuerySelfInterval: 500,
        querySelfInterval: options.querySelfIntervalMs,
      }),
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/**
 * Whether a dial failed in the encryption handshake (libp2p's `EncryptionFailedError`, found in the
 * error, its causes, or the errors of an aggregate), other than by running out of time. On a private
 * network that is what a node with another swarm key sees: the pre-shared key protector garbles every
 * byte, so the Noise negotiation fails or the other side resets the connection, at once. A peer id
 * other than the one dialled fails there too. libp2p keeps only the message of what went wrong inside
 * the handshake, so a deadline that expired there is told apart by its message.
 */
export function isHandshakeFailure(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false;
  const { name, message } = error as Error;
  if (name === 'EncryptionFailedError') return !/\b(aborted|timed out|timeout)\b/i.test(String(message));
  const nested = [(error as Error).cause, ...((error as Partial<AggregateError>).errors ?? [])];
  return nested.some((e) => isHandshakeFailure(e, depth + 1));
}
