import { z } from '@hono/zod-openapi';

const ClusterId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[1-9A-HJ-NP-Za-km-z]+$/, { message: 'must be a cluster id (a base58 libp2p peer id)' })
  .openapi({ example: '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35' });
const Timestamp = z.string().openapi({ example: '2026-11-22T10:00:00Z' });
const Multiaddr = z.string().openapi({ example: '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35' });

export const ClusterIdParam = z.object({ clusterId: ClusterId.openapi({ param: { name: 'clusterId', in: 'path' } }) });

export const IdentityRecordSchema = z
  .object({
    clusterId: ClusterId,
    name: z.string(),
    description: z.string().optional(),
    apiEndpoint: z.string().optional(),
    capabilities: z.array(z.string()).optional(),
    sequence: z.number().int(),
    expiresAt: Timestamp,
    signature: z.string().openapi({ description: "Base64 signature by the cluster's key" }),
  })
  .openapi('IdentityRecord');

export const LocalIdentitySchema = z
  .object({
    clusterId: ClusterId,
    name: z.string(),
    description: z.string().optional(),
    apiEndpoint: z.string().optional(),
    capabilities: z.array(z.string()),
    sequence: z.number().int().openapi({ description: 'Grows with every new identity record' }),
    expiresAt: Timestamp,
    multiaddrs: z.array(Multiaddr).openapi({ description: 'Where other nodes reach this one (bootstrap from any of them)' }),
  })
  .openapi('LocalIdentity');

export const IdentityChangeSchema = z
  .strictObject({
    name: z.string().min(1).max(128).optional(),
    description: z.string().max(2048).optional(),
  })
  .openapi('IdentityChange');

export const PeeringPolicySchema = z
  .object({ mode: z.enum(['manual', 'auto', 'allowList']), allowedClusterIds: z.array(ClusterId).optional() })
  .openapi('PeeringPolicy');

export const SwarmSchema = z
  .object({
    keyFingerprint: z.string().openapi({ example: `sha256:${'0'.repeat(64)}`, description: 'SHA-256 of the swarm key; never the key' }),
    generatedKey: z.boolean().openapi({ description: 'The node generated its own key: no other node shares it until an operator copies it' }),
    bootstrap: z.array(Multiaddr),
    peeringPolicy: PeeringPolicySchema,
    connectedPeers: z.number().int(),
    bootstrapProblems: z
      .array(z.object({ address: Multiaddr, problem: z.string() }))
      .openapi({ description: 'Bootstrap addresses whose handshake failed (most likely another swarm key), with what to check; empty once a dial through them succeeds' }),
  })
  .openapi('Swarm');

export const PeerSchema = z
  .object({
    clusterId: ClusterId,
    name: z.string().optional(),
    state: z.enum(['discovered', 'requested', 'pending-approval', 'peered', 'refused', 'blocked']),
    connected: z.boolean(),
    reachable: z.boolean(),
    latencyMs: z.number().int().optional(),
    lastSeen: Timestamp.optional(),
    addresses: z.array(Multiaddr),
    identity: IdentityRecordSchema.optional(),
  })
  .openapi('Peer');

export const NewPeerSchema = z
  .strictObject({
    address: z
      .string()
      .min(2)
      .max(1024)
      .regex(/^\//, { message: 'must be a multiaddr such as /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW...' })
      .openapi({ example: '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35' }),
  })
  .openapi('NewPeer');
