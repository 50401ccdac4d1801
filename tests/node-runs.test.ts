import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.ts';
import { runArchipel, type ArchipelProcess } from './support/archipel-process.ts';

/**
 * Runs on a node as users drive them: `archipel up` in its own process, an uploaded input, a workflow
 * submitted over HTTP and followed through its events to the end, outputs downloaded and compared with
 * what `archipel run` gives; then the node killed with SIGKILL in the middle of a step, restarted, and
 * the run resumed without running again what had succeeded and without the killed attempt's processes.
 */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-node-runs-'));
const running: ArchipelProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  rmSync(root, { recursive: true, force: true });
});
const env = { DATABASE_URL: undefined };

// `shout` upper-cases the file; `measure` waits for a gate file to exist, then counts bytes. Both append
// their name to a trace file on this machine, so that the test sees which steps ran, and how often.
const WORKFLOW = `cwlVersion: v1.2
class: Workflow
inputs:
  infile: File
  trace: string
  gate: string
outputs:
  shouted: {type: File, outputSource: shout/out}
  counted: {type: File, outputSource: measure/out}
steps:
  shout:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'echo shout >> "$0"; tr a-z A-Z < "$1"']
      inputs:
        trace: {type: string, inputBinding: {position: 1}}
        f: {type: File, inputBinding: {position: 2}}
      stdout: shouted.txt
      outputs: {out: stdout}
    in: {f: infile, trace: trace}
    out: [out]
  measure:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'echo measure >> "$0"; while [ ! -e "$1" ]; do sleep 0.1; done; wc -c < "$2"']
      inputs:
        trace: {type: string, inputBinding: {position: 1}}
        gate: {type: string, inputBinding: {position: 2}}
        f: {type: File, inputBinding: {position: 3}}
      stdout: counted.txt
      outputs: {out: stdout}
    in: {f: shout/out, trace: trace, gate: gate}
    out: [out]
`;

async function startNode(dataDir: string) {
  const node = runArchipel(['up', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0'], { env });
  running.push(node);
  const [, url] = await node.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/, 60_000);
  return { node, url: url! };
}

interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads a run's event stream until `until` holds for an event or the stream ends. */
async function readEvents(url: string, token: string, runId: string, until: (e: SseEvent) => boolean = () => false, lastEventId?: number): Promise<SseEvent[]> {
  const controller = new AbortController();
  const response = await fetch(`${url}/api/v1/runs/${runId}/events`, {
    headers: { Authorization: `Bearer ${token}`, ...(lastEventId !== undefined ? { 'Last-Event-ID': String(lastEventId) } : {}) },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const events: SseEvent[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
        if (field('data') === undefined) continue;
        const event = { id: Number(field('id')), event: field('event')!, data: JSON.parse(field('data')!) as Record<string, unknown> };
        events.push(event);
        if (until(event)) return events;
      }
    }
  } finally {
    controller.abort();
  }
  return events;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runs on a node', () => {
  it(
    'runs a workflow on an uploaded input, survives a SIGKILL mid-step, and gives what archipel run gives',
    { timeout: 240_000 },
    async () => {
      const dataDir = path.join(root, 'node');
      const work = path.join(root, 'work');
      mkdirSync(work, { recursive: true });
      const trace = path.join(work, 'trace');
      const gate = path.join(work, 'gate-7f3a');
      let { node, url } = await startNode(dataDir);
      const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
      const call = async (method: string, route: string, body?: unknown) => {
        const response = await fetch(`${url}/api/v1${route}`, {
          method,
          headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      expect((await call('POST', '/projects', { name: 'survey' })).status).toBe(201);
      const text = 'the quick brown fox\njumps over the lazy dog\n';
      const uploaded = await fetch(`${url}/api/v1/files?name=${encodeURIComponent('fox.txt')}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: text });
      expect(uploaded.status).toBe(201);
      const file = (await uploaded.json()) as { location: string; size: number };
      expect(file.size).toBe(Buffer.byteLength(text));

      const submitted = await call('POST', '/runs', { project: 'survey', cwl: WORKFLOW, job: { infile: { class: 'File', location: file.location }, trace, gate } });
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      const runId = submitted.body.id as string;

      // Follow the run until the second step runs, then kill the node where it stands.
      const before = await readEvents(url, token, runId, (e) => e.event === 'step' && e.data.step === 'shout' && e.data.phase === 'Succeeded');
      expect(before.at(-1)?.data).toMatchObject({ step: 'shout', phase: 'Succeeded' });
      await eventually(() => expect(readFileSync(trace, 'utf8')).toBe('shout\nmeasure\n'), 30_000);
      const firstAttempt = spawnSync('pgrep', ['-f', gate]).stdout.toString().trim().split('\n').filter(Boolean).map(Number);
      expect(firstAttempt.length).toBeGreaterThan(0);
      expect(firstAttempt.some(alive)).toBe(true);
      await node.stop('SIGKILL');
      // The killed node's step processes end with it (before any restart).
      await eventually(() => expect(firstAttempt.filter(alive)).toEqual([]), 15_000);

      ({ node, url } = await startNode(dataDir));
      // The second step runs again; the first does not.
      await eventually(() => expect(readFileSync(trace, 'utf8')).toBe('shout\nmeasure\nmeasure\n'), 60_000);
      writeFileSync(gate, '');
      const rest = await readEvents(url, token, runId, undefined, before.at(-1)!.id);
      expect(rest.at(-1)).toMatchObject({ event: 'run', data: { phase: 'Succeeded' } });
      expect(readFileSync(trace, 'utf8')).toBe('shout\nmeasure\nmeasure\n');

      const run = await call('GET', `/runs/${runId}`);
      expect(run.body).toMatchObject({ phase: 'Succeeded' });
      expect((run.body.steps as { step: string; phase: string }[]).map((s) => [s.step, s.phase])).toEqual([
        ['shout', 'Succeeded'],
        ['measure', 'Succeeded'],
      ]);
      const outputs = (await call('GET', `/runs/${runId}/outputs`)).body as Record<string, { location: string; basename: string }>;
      const downloaded: Record<string, string> = {};
      for (const [name, out] of Object.entries(outputs)) {
        const response = await fetch(out.location, { headers: { Authorization: `Bearer ${token}` } });
        expect(response.status).toBe(200);
        downloaded[name] = await response.text();
      }

      // The same workflow and inputs through `archipel run`.
      const local = path.join(root, 'local');
      mkdirSync(local, { recursive: true });
      writeFileSync(path.join(local, 'wf.cwl'), WORKFLOW);
      writeFileSync(path.join(local, 'fox.txt'), text);
      writeFileSync(path.join(local, 'job.json'), JSON.stringify({ infile: { class: 'File', location: 'fox.txt' }, trace: path.join(local, 'trace'), gate }));
      const cli = runArchipel(['run', '--outdir', path.join(local, 'out'), 'wf.cwl', 'job.json'], { cwd: local, env });
      expect(await cli.exited, cli.stderr()).toBe(0);
      const expected = JSON.parse(cli.stdout()) as Record<string, { path: string }>;
      expect(Object.keys(downloaded).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, out] of Object.entries(expected)) expect(downloaded[name], name).toBe(readFileSync(out.path, 'utf8'));
      expect(downloaded.shouted).toBe(text.toUpperCase());
      expect(existsSync(gate)).toBe(true);
    },
  );
});
