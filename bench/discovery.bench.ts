// Discovery convergence on loopback: for 5, 10 and 20 in-process nodes, the time until every node sees
// every other (connected, with its verified identity record), the time until a newcomer is seen by all,
// and the memory each node adds. Run on purpose (not part of the test suite):
//
//   node --expose-gc --import tsx bench/discovery.bench.ts [sizes...]
//
// Every node is a full discovery agent (libp2p with TCP, Noise, Yamux, pnet, identify, ping, kad-dht)
// with the production timings; their Peer objects go to one embedded database (PGlite), one namespace
// per node, so the store writes of all nodes queue on one database here, where each real node has its own.
import '../platform/polyfills.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { silentLogger } from '../core/index.ts';
import { createDiscoveryAgent, generateSwarmKey, type DiscoveryAgent } from '../discovery/index.ts';
import { createSqlResourceStore } from '../platform/resource-store/index.ts';
import { createPgliteTestDatabase } from '../platform/sql/testing.ts';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 1);
const SIZES = sizes.length ? sizes : [5, 10, 20];
const DEADLINE_MS = 120_000;

const gc = (globalThis as { gc?: () => void }).gc;
const memory = () => {
  gc?.();
  gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heap: heapUsed + external + arrayBuffers };
};
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function until(check: () => boolean, what: string): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > DEADLINE_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - start;
}

/** Whether `agent` lists every one of `others` as connected with its identity record. */
function sees(agent: DiscoveryAgent, others: string[]): boolean {
  const known = new Map(agent.listPeers().map((p) => [p.clusterId, p]));
  return others.every((id) => {
    const peer = known.get(id);
    return peer?.connected === true && peer.identity?.clusterId === id;
  });
}

async function run(n: number) {
  const root = mkdtempSync(path.join(tmpdir(), 'archipel-bench-discovery-'));
  const swarmKeyFile = path.join(root, 'swarm.key');
  writeFileSync(swarmKeyFile, generateSwarmKey());
  const { db, cleanup } = await createPgliteTestDatabase();
  const agents: DiscoveryAgent[] = [];
  let progress: NodeJS.Timeout | undefined;
  const make = (i: number, bootstrap: string[]) =>
    createDiscoveryAgent({
      dataDir: path.join(root, `node-${i}`),
      store: createSqlResourceStore({ db, namespace: `node-${i}` }),
      logger: silentLogger,
      name: `node-${i}`,
      swarmKeyFile,
      host: '127.0.0.1',
      port: 0,
      bootstrap,
    });
  try {
    const before = memory();
    const first = make(0, []);
    await first.start();
    agents.push(first);
    const bootstrap = [first.identity().multiaddrs[0]!];

    const startAt = performance.now();
    const rest = Array.from({ length: n - 1 }, (_, i) => make(i + 1, bootstrap));
    await Promise.all(rest.map((agent) => agent.start()));
    agents.push(...rest);
    const ids = agents.map((a) => a.identity().clusterId);
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    // BENCH_DEBUG=1 prints the progress every second.
    progress = setInterval(() => {
      if (!process.env.BENCH_DEBUG) return;
      const views = agents.map((a) => a.listPeers());
      const connected = views.reduce((sum, v) => sum + v.filter((p) => p.connected).length, 0);
      const identified = views.reduce((sum, v) => sum + v.filter((p) => p.connected && p.identity).length, 0);
      process.stdout.write(
        `  t=${((performance.now() - startAt) / 1000).toFixed(1)}s connected=${connected} identified=${identified} of ${n * (n - 1)}; event loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms\n`,
      );
      lag.reset();
    }, 1000);
    await until(() => agents.every((agent) => agent.swarm().connectedPeers >= n - 1), 'a full mesh of connections');
    const meshMs = performance.now() - startAt;
    await until(() => agents.every((agent, i) => sees(agent, ids.filter((_, j) => j !== i))), `a full view among ${n} nodes`);
    const convergedMs = performance.now() - startAt;
    lag.disable();
    const after = memory();

    const newcomer = make(n, bootstrap);
    const joinAt = performance.now();
    await newcomer.start();
    const newId = newcomer.identity().clusterId;
    await until(() => agents.every((agent) => sees(agent, [newId])), 'the newcomer to be seen by all');
    const seenByAllMs = performance.now() - joinAt;
    await until(() => sees(newcomer, ids), 'the newcomer to see all');
    const seesAllMs = performance.now() - joinAt;
    agents.push(newcomer);

    return {
      n,
      meshMs,
      convergedMs,
      seenByAllMs,
      seesAllMs,
      rssPerNode: (after.rss - before.rss) / n,
      heapPerNode: (after.heap - before.heap) / n,
    };
  } finally {
    clearInterval(progress);
    await Promise.allSettled(agents.map((a) => a.stop()));
    await cleanup();
    rmSync(root, { recursive: true, force: true });
  }
}

const results = [];
for (const n of SIZES) {
  const result = await run(n);
  results.push(result);
  process.stdout.write(`${n} nodes: full view after ${(result.convergedMs / 1000).toFixed(2)} s; newcomer seen by all after ${(result.seenByAllMs / 1000).toFixed(2)} s\n`);
}
process.stdout.write('\n| nodes | all connected to all (s) | every node sees every other (s) | newcomer seen by all (s) | newcomer sees all (s) | RSS per node (MiB) | JS heap + buffers per node (MiB) |\n|---:|---:|---:|---:|---:|---:|---:|\n');
for (const r of results) {
  process.stdout.write(
    `| ${r.n} | ${(r.meshMs / 1000).toFixed(2)} | ${(r.convergedMs / 1000).toFixed(2)} | ${(r.seenByAllMs / 1000).toFixed(2)} | ${(r.seesAllMs / 1000).toFixed(2)} | ${mib(r.rssPerNode)} | ${mib(r.heapPerNode)} |\n`,
  );
}
process.stdout.write(`\n${gc ? '' : '(run with --expose-gc for steadier memory figures)\n'}`);
