import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runArchipel, type ArchipelProcess } from './support/archipel-process.ts';
import { json } from './support/json.ts';

/**
 * The embedded node as a user runs it: `archipel up` in its own process, driven over HTTP, stopped with
 * a signal and started again on the same data directory.
 */
const dataRoot = mkdtempSync(path.join(tmpdir(), 'archipel-node-'));
const running: ArchipelProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  rmSync(dataRoot, { recursive: true, force: true });
});

// Without DATABASE_URL the node uses PGlite in its data directory; with it, PostgreSQL — on a schema
// of its own would need a config knob, so this scenario pins the embedded database.
const env = { DATABASE_URL: undefined };

async function startNode(dataDir: string, extra: string[] = []) {
  const node = runArchipel(['up', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0', ...extra], { env });
  running.push(node);
  const [, url] = await node.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/, 60_000);
  return { node, url: url! };
}

const api = (url: string, token: string) => async (method: string, route: string, body?: unknown) => {
  const response = await fetch(`${url}/api/v1${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: response.status === 204 ? null : await json(response) };
};

describe('archipel up', () => {
  // Two node starts in a row: on a busy machine each can take many seconds.
  it('serves health, writes a private admin token, and keeps state across a restart', { timeout: 90_000 }, async () => {
    const dataDir = path.join(dataRoot, 'restart');
    const first = await startNode(dataDir);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    const tokenFile = path.join(dataDir, 'admin.token');
    expect(first.node.stdout()).toContain(`admin token written to ${tokenFile}`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    const call = api(first.url, token);

    expect((await call('POST', '/users', { name: 'alice', password: 'alice password' })).status).toBe(201);
    expect((await call('POST', '/projects', { name: 'survey', description: 'sky survey' })).status).toBe(201);
    expect((await call('POST', '/projects/survey/members', { user: 'alice' })).status).toBe(201);
    const entry = { kind: 'compute', name: 'spare-cores', visibility: 'private', spec: { cores: 1, memoryMiB: 512, gpus: 0 } };
    expect((await call('POST', '/catalog/entries', entry)).status).toBe(201);
    const reservation = await call('POST', '/providers/compute/reservations', { cores: 1, memoryMiB: 256, durationSeconds: 3600 });
    expect(reservation.status, JSON.stringify(reservation.body)).toBe(201);

    expect(await first.node.stop('SIGTERM')).toBe(0);
    expect(first.node.stdout()).toContain('Archipel node stopped.');

    const second = await startNode(dataDir);
    expect(second.node.stdout()).not.toContain('admin token written');
    const again = api(second.url, token);
    expect((await again('GET', '/users')).body.items.map((u: { name: string }) => u.name)).toEqual(['admin', 'alice']);
    expect((await again('GET', '/projects')).body.items).toMatchObject([{ name: 'survey', description: 'sky survey' }]);
    expect((await again('GET', '/projects/survey/members')).body.items.map((m: { user: string }) => m.user)).toEqual(['admin', 'alice']);
    expect((await again('GET', '/catalog/entries')).body.items).toMatchObject([{ name: 'spare-cores', kind: 'compute' }]);
    expect((await again('GET', `/providers/compute/reservations/${reservation.body.id}`)).body).toMatchObject({ cores: 1, state: 'active' });
    const login = await fetch(`${second.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: 'alice', password: 'alice password' }),
    });
    expect(login.status).toBe(201);
    expect(await second.node.stop('SIGINT')).toBe(0);
  });

  it('refuses a second node on the same data directory with one clear message', { timeout: 60_000 }, async () => {
    const dataDir = path.join(dataRoot, 'locked');
    const first = await startNode(dataDir);
    const second = runArchipel(['up', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0'], { env });
    running.push(second);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/^archipel: data directory .* is in use by another Archipel node \(pid \d+\)\n$/);
    await first.node.stop();
  });

  it('says which port is in use, without a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const node = runArchipel(['up', '--data-dir', path.join(dataRoot, 'busy'), '--http-port', String(port), '--p2p-port', '0'], { env });
      running.push(node);
      expect(await node.exited).toBe(1);
      expect(node.stderr()).toContain(`HTTP port ${port} on 127.0.0.1 is already in use`);
      expect(node.stderr()).not.toMatch(/\bat .*\.ts:\d+/);
    } finally {
      blocker.close();
    }
  });

  it('says which p2p port is in use, and releases the data directory', { timeout: 60_000 }, async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = path.join(dataRoot, 'p2p-busy');
    try {
      const node = runArchipel(['up', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', String(port)], { env });
      running.push(node);
      expect(await node.exited).toBe(1);
      expect(node.stderr()).toContain(`P2P port ${port} on 127.0.0.1 is already in use`);
      expect(node.stderr()).not.toMatch(/\bat .*\.ts:\d+/);
    } finally {
      blocker.close();
    }
    // Everything started before the failure was undone: the data directory is free again.
    const again = await startNode(dataDir);
    expect(again.node.stdout()).toMatch(/p2p: +\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/);
    await again.node.stop();
  });

  it('reports every configuration problem at once and exits non-zero', async () => {
    const configFile = path.join(dataRoot, 'bad.yaml');
    writeFileSync(configFile, 'http:\n  port: -1\nlog:\n  level: chatty\n');
    const node = runArchipel(['up', '--config', configFile, '--p2p-port', 'x', '--data-dir', path.join(dataRoot, 'bad')], { env });
    running.push(node);
    expect(await node.exited).toBe(2);
    const stderr = node.stderr();
    expect(stderr).toMatch(/invalid configuration \(3 problems\)/);
    expect(stderr).toMatch(/bad\.yaml:2: http\.port/);
    expect(stderr).toMatch(/bad\.yaml:4: log\.level/);
    expect(stderr).toMatch(/p2p\.port: .*option --p2p-port/);
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
