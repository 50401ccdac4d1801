export interface DiscoveryTiming {
  /** Deadline of one dial. */
  dialTimeoutMs: number;
  /** Deadline of one request/response exchange on an Archipel protocol. */
  requestTimeoutMs: number;
  /** How often the agent reconnects lost peers and, when alone, the bootstrap nodes. */
  maintenanceIntervalMs: number;
  /** How often it walks the DHT for members it does not know. */
  walkIntervalMs: number;
  /** How often connections are pinged, and reachability, latency and last seen recorded. */
  pingIntervalMs: number;
  /** How often it re-announces its identity record to connected peers. */
  reannounceIntervalMs: number;
  /** How long an identity record is valid; it is re-signed when half of that is left. */
  recordTtlMs: number;
  /** Longest pause between two attempts to reconnect a lost peer. */
  maxRedialBackoffMs: number;
  /** A peer's `lastSeen` is rewritten only when it has moved by at least this much. */
  lastSeenResolutionMs: number;
}

export const DEFAULT_TIMING: DiscoveryTiming = {
  dialTimeoutMs: 5_000,
  requestTimeoutMs: 5_000,
  maintenanceIntervalMs: 1_000,
  walkIntervalMs: 10_000,
  pingIntervalMs: 10_000,
  reannounceIntervalMs: 60_000,
  recordTtlMs: 24 * 3600_000,
  maxRedialBackoffMs: 60_000,
  lastSeenResolutionMs: 30_000,
};
