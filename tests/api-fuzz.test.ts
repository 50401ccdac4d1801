import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TYPES_PATH, portalApiTypes } from '../frontend-backend/portal/api-types.ts';
import { REPO_ROOT, runArchipel, type ArchipelProcess } from './support/archipel-process.ts';
import { fuzzRequest, operationsOf, plainTarget, type FuzzRequest, type Operation } from './support/openapi-fuzz.ts';
import { seededRandom } from './support/seeded-random.ts';

/**
 * Every operation of the node's OpenAPI document, as a stranger and as an attacker would call it, against
 * `archipel up` in its own process: without a token or with a bad one (401), and with malformed path
 * segments, queries and bodies (a fixed seed, a fixed count per operation). No answer is a 5xx, every
 * refusal is the API's JSON error, and a refused request changes nothing that the API shows.
 */

// Fixed in CI; FUZZ_SEED and FUZZ_REQUESTS dig further by hand (a failure prints the requests to replay).
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const REQUESTS_PER_OPERATION = Number(process.env.FUZZ_REQUESTS ?? 12);

const root = mkdtempSync(path.join(tmpdir(), 'archipel-fuzz-'));
let node: ArchipelProcess;
let port = 0;
let admin = '';
let mallory = '';
let operations: Operation[] = [];
let document: Parameters<typeof operationsOf>[0];

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Sends the request target verbatim (`fetch` would resolve dot segments and re-encode). */
function send(req: FuzzRequest, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.Authorization = token.startsWith('Bearer') ? token : `Bearer ${token}`;
    if (req.contentType) headers['Content-Type'] = req.contentType;
    const outgoing = request({ host: '127.0.0.1', port, method: req.method, path: req.target, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer in 30 s to ${req.method} ${req.target.slice(0, 200)}`)));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

const api = async (method: string, route: string, token: string, body?: unknown) => {
  const answer = await send({ method, target: `/api/v1${route}`, ...(body ? { contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) } : {}) }, token);
  return { status: answer.status, body: answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : null };
};

// Fields that change by themselves (the time a token was last used, a peer last seen, ...).
const VOLATILE = new Set(['at', 'lastUsedAt', 'lastSeen', 'latencyMs', 'reachable', 'connectedPeers', 'unanswered']);
const stable = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(stable)
    : value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).filter(([key]) => !VOLATILE.has(key)).map(([key, v]) => [key, stable(v)]))
      : value;

/** What the API shows: every list operation (a GET without path parameters answering JSON), as the administrator. */
async function snapshot(): Promise<Record<string, unknown>> {
  const lists = operations.filter((op) => op.method === 'GET' && !op.pathParameters.length && op.answers === 'application/json' && op.secured && !op.path.endsWith('/search'));
  const seen: Record<string, unknown> = {};
  for (const op of lists) {
    const answer = await send({ method: 'GET', target: op.path }, admin);
    seen[op.path] = { status: answer.status, body: stable(JSON.parse(answer.text)) };
  }
  return seen;
}

beforeAll(async () => {
  node = runArchipel(['up', '--data-dir', path.join(root, 'node'), '--http-port', '0', '--p2p-port', '0'], { env: { DATABASE_URL: undefined } });
  const [, url] = await node.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:(\d+))\/api\/v1/, 90_000);
  port = Number(new URL(url!).port);
  admin = readFileSync(path.join(root, 'node', 'admin.token'), 'utf8').trim();
  document = JSON.parse((await send({ method: 'GET', target: '/api/v1/openapi.json' })).text) as typeof document;
  operations = operationsOf(document);
  expect((await api('POST', '/users', admin, { name: 'mallory', password: 'mallory password' })).status).toBe(201);
  expect((await api('POST', '/projects', admin, { name: 'vault', description: 'the admin project' })).status).toBe(201);
  const login = await api('POST', '/auth/login', '', { user: 'mallory', password: 'mallory password' });
  expect(login.status).toBe(201);
  mallory = String(login.body?.token);
}, 120_000);

afterAll(async () => {
  await node?.stop('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const describeRequest = (req: FuzzRequest, answer: Answer) =>
  `${req.method} ${req.target.slice(0, 160)} ${req.body ? req.body.toString('utf8').slice(0, 160) : ''} → ${answer.status} ${answer.text.slice(0, 200)}`;

/** A body that fits the operation's schema as far as the generator can tell (fixed seed). */
function plausibleBody(op: Operation): Buffer | undefined {
  const random = seededRandom(SEED);
  for (let i = 0; i < 50; i++) {
    const req = fuzzRequest(document, op, random);
    if (req.contentType === 'application/json' && req.body && !req.target.includes('?')) return req.body;
  }
  return Buffer.from('{}');
}

/** An answer of the API's error shape, or what is wrong with it. */
function errorShapeProblem(answer: Answer): string | undefined {
  if (!answer.contentType.startsWith('application/json')) return `content type ${answer.contentType}`;
  try {
    const body = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') return 'no error.code and error.message';
  } catch {
    return 'not JSON';
  }
  return undefined;
}

describe("the web portal's API types", () => {
  it('are the ones this node\'s OpenAPI document gives (else: npm run generate:portal-api)', async () => {
    const committed = readFileSync(path.join(REPO_ROOT, API_TYPES_PATH), 'utf8');
    expect(await portalApiTypes(document), `${API_TYPES_PATH} is out of date: run \`npm run generate:portal-api\``).toBe(committed);
  });
});

describe('the API under malformed and unauthorized requests', () => {
  it('lists enough operations to be worth fuzzing', () => {
    expect(operations.length).toBeGreaterThan(50);
    expect(operations.filter((op) => !op.secured).map((op) => `${op.method} ${op.path}`).sort()).toEqual([
      'GET /api/v1/auth/oidc/callback',
      'GET /api/v1/auth/oidc/start',
      'GET /api/v1/auth/providers',
      'POST /api/v1/auth/login',
    ]);
  });

  it('answers every secured operation without a token, or with a bad or malformed one, with 401 and changes nothing', { timeout: 120_000 }, async () => {
    const before = await snapshot();
    const wrong: string[] = [];
    for (const op of operations.filter((o) => o.secured)) {
      for (const token of [undefined, 'arch_not-a-real-token', 'Bearer', `Bearer ${admin}x`, 'Basic YWRtaW46YWRtaW4=']) {
        const req: FuzzRequest = { method: op.method, target: plainTarget(op), ...(op.jsonBody ? { contentType: 'application/json', body: Buffer.from('{}') } : {}) };
        const answer = await send(req, token);
        if (answer.status !== 401 || errorShapeProblem(answer)) wrong.push(`${token ?? '(none)'}: ${describeRequest(req, answer)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a user every operation on the administrator's private resources, and changes nothing", { timeout: 180_000 }, async () => {
    // The administrator's own things, in a project mallory is not a member of (`private` entries are
    // for every user of the cluster: this one is restricted to the project).
    const clusterId = String((await api('GET', '/discovery/identity', admin)).body?.clusterId);
    const entry = await api('POST', '/catalog/entries', admin, {
      kind: 'compute',
      name: 'spare-cores',
      visibility: 'restricted',
      allowedProjects: [`${clusterId}/vault`],
      spec: { cores: 1, memoryMiB: 512, gpus: 0 },
    });
    expect(entry.status, JSON.stringify(entry.body)).toBe(201);
    const reservation = await api('POST', '/providers/compute/reservations', admin, { cores: 1, memoryMiB: 256, durationSeconds: 3600 });
    expect(reservation.status, JSON.stringify(reservation.body)).toBe(201);
    const token = await api('POST', '/tokens', admin, { name: 'second' });
    expect(token.status).toBe(201);
    const upload = await send({ method: 'POST', target: '/api/v1/files?name=secret.txt&project=vault', contentType: 'application/octet-stream', body: Buffer.from('secret\n') }, admin);
    expect(upload.status, upload.text).toBe(201);
    const file = JSON.parse(upload.text) as { id: string; location: string };
    const run = await api('POST', '/runs', admin, {
      project: 'vault',
      cwl: 'cwlVersion: v1.2\nclass: CommandLineTool\nid: show\nbaseCommand: cat\ninputs: {f: {type: File, inputBinding: {position: 1}}}\nstdout: out.txt\noutputs: {out: stdout}\n',
      job: { f: { class: 'File', location: file.location } },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    const runId = String(run.body?.id);
    for (let i = 0; i < 600 && !['Succeeded', 'Failed', 'Error'].includes(String((await api('GET', `/runs/${runId}`, admin)).body?.phase)); i++) await new Promise((r) => setTimeout(r, 100));
    const ran = await api('GET', `/runs/${runId}`, admin);
    expect(ran.body?.phase, JSON.stringify(ran.body)).toBe('Succeeded');
    const values: Record<string, string[]> = {
      id: [String(entry.body?.id), String(reservation.body?.id), String(token.body?.id), file.id, runId],
      project: ['vault'],
      user: ['admin'],
      step: ['show', 'main'],
      path: ['out.txt', 'outputs%2Fout.txt'],
      clusterId: [clusterId],
    };
    const before = await snapshot();
    const granted: string[] = [];
    let sent = 0;
    for (const op of operations.filter((o) => o.secured && o.pathParameters.length)) {
      let targets = [op.path];
      for (const name of op.pathParameters) targets = targets.flatMap((t) => (values[name] ?? ['x']).map((v) => t.replace(`{${name}}`, v)));
      for (const target of targets) {
        const body = op.jsonBody ? plausibleBody(op) : undefined;
        const answer = await send({ method: op.method, target, ...(body ? { contentType: 'application/json', body } : {}) }, mallory);
        sent++;
        // Her own view of the cluster (its identity, its peers) is hers to read; nothing of the
        // administrator's is.
        if (answer.status < 400 && !(op.method === 'GET' && op.path.startsWith('/api/v1/discovery/'))) granted.push(`${op.method} ${target} → ${answer.status} ${answer.text.slice(0, 200)}`);
        if (answer.status >= 500) granted.push(`${op.method} ${target} → ${answer.status} ${answer.text.slice(0, 200)}`);
      }
    }
    expect(sent).toBeGreaterThan(100);
    expect(granted).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it(`answers ${REQUESTS_PER_OPERATION} malformed requests per operation with a JSON 4xx or a success, never a 5xx it does not document, and a refusal changes nothing`, { timeout: 600_000 }, async () => {
    const random = seededRandom(SEED);
    const serverErrors: string[] = [];
    const badShapes: string[] = [];
    const changedByRefusals: string[] = [];
    let state = await snapshot();
    let answered = 0;
    const statuses: Record<number, number> = {};
    for (const op of operations) {
      for (let i = 0; i < REQUESTS_PER_OPERATION; i++) {
        const req = fuzzRequest(document, op, random);
        const token = op.secured ? random.pick([admin, mallory]) : undefined;
        const answer = await send(req, token);
        answered++;
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        const line = `${token === admin ? 'admin' : token === mallory ? 'mallory' : 'anonymous'}: ${describeRequest(req, answer)}`;
        // A 501 the operation documents says what this node does not offer (a kind of grant it has no
        // backend for): an answer, not a fault. Any other 5xx is one.
        const documentedAbsence = answer.status === 501 && op.statuses.includes(501) && answer.text.includes('"not-implemented"');
        if (answer.status >= 500 && !documentedAbsence) serverErrors.push(line);
        const problem = answer.status >= 400 ? errorShapeProblem(answer) : undefined;
        if (problem) badShapes.push(`${problem}: ${line}`);
        // Looked at after every request: a success may change state, a refusal must not.
        const now = await snapshot();
        if (answer.status >= 400) {
          const changed = Object.keys(now).filter((key) => JSON.stringify(now[key]) !== JSON.stringify(state[key]));
          if (changed.length) changedByRefusals.push(`${changed.join(', ')} changed by ${line}`);
        }
        state = now;
      }
    }
    expect(answered).toBe(operations.length * REQUESTS_PER_OPERATION);
    if (process.env.FUZZ_REQUESTS) process.stderr.write(`answers by status: ${JSON.stringify(statuses)}\n`);
    expect(serverErrors).toEqual([]);
    expect(badShapes).toEqual([]);
    expect(changedByRefusals).toEqual([]);
    expect((await send({ method: 'GET', target: '/readyz' })).status).toBe(200);
  });
});
