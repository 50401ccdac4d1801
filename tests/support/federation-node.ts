import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { createPgliteTestDatabase } from '../../platform/sql/testing.ts';
import { runArchipel, type ArchipelProcess } from './archipel-process.ts';
import { json } from './json.ts';

/** A request to a node's API as one caller; the body parsed as JSON (null for 204). */
export type Call = (method: string, route: string, body?: unknown) => Promise<{ status: number; body: Awaited<ReturnType<typeof json>> }>;

/** An `archipel up` node in a process of its own, as its operator runs it. */
export interface FederationNode {
  name: string;
  dataDir: string;
  process: ArchipelProcess;
  url: string;
  p2p: string;
  clusterId: string;
  /** The bootstrap admin's token, and calls made with it. */
  token: string;
  call: Call;
  as(token: string): Call;
}

export const caller =
  (url: string, token: string): Call =>
  async (method, route, body) => {
    const response = await fetch(`${url}/api/v1${route}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: response.status === 204 ? null : await json(response) };
  };

/**
 * Starts node `name` with its data directory under `root` (its embedded database made from the test
 * template), on free ports of 127.0.0.1, in the swarm of `swarmKey`; `running` collects the processes.
 */
export async function startFederationNode(
  root: string,
  running: ArchipelProcess[],
  name: string,
  swarmKey: string,
  extra: string[] = [],
  env: Record<string, string> = {},
  /** false: start it again on the data directory it left (a restart). */
  fresh = true,
): Promise<FederationNode> {
  const dataDir = path.join(root, name);
  if (fresh) {
    mkdirSync(dataDir, { recursive: true });
    await (await createPgliteTestDatabase({ dataDir: path.join(dataDir, 'db') })).cleanup();
  }
  const child = runArchipel(['up', '--name', name, '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0', '--swarm-key', swarmKey, ...extra], {
    env: { DATABASE_URL: undefined, ...env },
  });
  running.push(child);
  const [, url] = await child.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/, 60_000);
  const [, p2p, clusterId] = await child.waitFor(/p2p:\s+(\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/(\w+))/);
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  return { name, dataDir, process: child, url: url!, p2p: p2p!, clusterId: clusterId!, token, call: caller(url!, token), as: (t) => caller(url!, t) };
}

/** The body of a response that has the expected status (the body is shown when it has not). */
export const ok = <T extends { status: number; body: unknown }>(response: T, status = 200): T['body'] => {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  return response.body;
};
