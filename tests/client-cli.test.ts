import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runArchipel, type ArchipelProcess } from './support/archipel-process.ts';

/**
 * The client commands as a user types them against a running node (its own process): login, submit
 * with local files and --watch, runs, outputs, files.
 */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-client-'));
const work = path.join(root, 'work');
const configHome = path.join(root, 'config');
let node: ArchipelProcess;
let url: string;
let admin: (method: string, route: string, body: unknown) => Promise<Response>;

// The client reads no token from the environment: only what `archipel login` saved.
const env = { DATABASE_URL: undefined, XDG_CONFIG_HOME: configHome, ARCHIPEL_NODE: undefined, ARCHIPEL_TOKEN: undefined };

async function archipel(args: string[], input?: string) {
  const child = runArchipel(args, { env, cwd: work });
  if (input !== undefined) child.child.stdin.end(input);
  else child.child.stdin.end();
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

const WORKFLOW = `cwlVersion: v1.2
class: Workflow
inputs:
  reads: File
  extras: Directory
outputs:
  shouted: {type: File, outputSource: shout/out}
  listed: {type: File, outputSource: list/out}
steps:
  shout:
    run: shout.cwl
    in: {f: reads}
    out: [out]
  list:
    run:
      class: CommandLineTool
      baseCommand: [ls]
      arguments: [$(inputs.d.path)]
      requirements: {InlineJavascriptRequirement: {}}
      inputs: {d: Directory}
      stdout: listing.txt
      outputs: {out: stdout}
    in: {d: extras}
    out: [out]
`;
const SHOUT = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [tr, a-z, A-Z]
stdin: $(inputs.f.path)
inputs: {f: File}
stdout: shouted.txt
outputs: {out: stdout}
`;

beforeAll(async () => {
  mkdirSync(path.join(work, 'extras', 'deeper'), { recursive: true });
  writeFileSync(path.join(work, 'wf.cwl'), WORKFLOW);
  writeFileSync(path.join(work, 'shout.cwl'), SHOUT);
  writeFileSync(path.join(work, 'reads.txt'), 'acgt acgt\n');
  writeFileSync(path.join(work, 'extras', 'one.txt'), '1');
  writeFileSync(path.join(work, 'extras', 'deeper', 'two.txt'), '2');
  writeFileSync(path.join(work, 'job.yml'), 'reads: {class: File, location: reads.txt}\nextras: {class: Directory, location: extras}\n');
  const dataDir = path.join(root, 'node');
  node = runArchipel(['up', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0'], { env });
  [, url] = (await node.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/, 60_000)) as unknown as [string, string];
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  admin = (method: string, route: string, body: unknown) =>
    fetch(`${url}/api/v1${route}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect((await admin('POST', '/users', { name: 'carol', password: 'carol’s long password' })).status).toBe(201);
  expect((await admin('POST', '/projects', { name: 'assembly' })).status).toBe(201);
  expect((await admin('POST', '/projects/assembly/members', { user: 'carol' })).status).toBe(201);
}, 90_000);
afterAll(async () => {
  await node?.stop('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('archipel client commands', () => {
  it('logs in with a password from standard input and keeps the token private', async () => {
    const before = await archipel(['runs', 'list']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/not logged in to a node: run `archipel login --node URL`/);
    const refused = await archipel(['login', '--node', url, '--user', 'carol'], 'wrong password\n');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/login refused/);
    const login = await archipel(['login', '--node', url, '--user', 'carol'], 'carol’s long password\n');
    expect(login.code, login.stderr).toBe(0);
    const file = path.join(configHome, 'archipel', 'client.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ node: url });
  }, 60_000);

  it('submits a workflow that runs another file with local files and a directory, follows it, and downloads its outputs', async () => {
    const submitted = await archipel(['submit', 'wf.cwl', 'job.yml', '--project', 'assembly', '--label', 'sample=s1', '--watch']);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stderr).toMatch(/uploaded .*reads\.txt \(10 bytes\) as archipel:files\//);
    // Piped, --watch prints one line per transition, ending with the run's success.
    const lines = submitted.stdout.trim().split('\n');
    expect(lines.some((l) => / step shout Succeeded on /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/ run [0-9a-f]{16} Succeeded$/);
    const runId = /run ([0-9a-f]{16}) Succeeded/.exec(lines.at(-1)!)![1]!;

    // A plan of the same workflow on a node without peers: every step here, each with why; nothing runs.
    const planned = await archipel(['plan', 'wf.cwl', 'job.yml', '--project', 'assembly']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/^clusters:\n {2}\S+ \(this cluster\) {2}\S+ {2}\d+(\.\d+)? cores, \d+ MiB, \d+ GPUs free\nsteps:\n {2}shout\s+\S+ \(this cluster\): fits its 1 cores, 256 MiB with \d+% headroom/);
    const badPlace = await archipel(['plan', 'wf.cwl', '--project', 'assembly', '--place', 'nosuchstep=x']);
    expect(badPlace.code).toBe(2);
    expect(badPlace.stderr).toMatch(/placement names steps that are not command-line tool steps of this workflow: nosuchstep/);

    const listed = JSON.parse((await archipel(['runs', 'list', '--label', 'sample=s1', '--json'])).stdout) as { id: string; name: string }[];
    expect(listed.map((r) => [r.id, r.name])).toEqual([[runId, 'wf']]);
    const table = await archipel(['runs', 'get', runId]);
    expect(table.stdout).toMatch(/shout\s+Succeeded/);

    const downloaded = await archipel(['runs', 'outputs', runId, '--download', 'results']);
    expect(downloaded.code, downloaded.stderr).toBe(0);
    const outputs = JSON.parse(downloaded.stdout) as Record<string, { path: string }>;
    expect(readFileSync(outputs.shouted!.path, 'utf8')).toBe('ACGT ACGT\n');
    expect(readFileSync(outputs.listed!.path, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['deeper', 'one.txt']);
    expect(outputs.shouted!.path).toBe(path.join(work, 'results', 'shouted.txt'));
    const stepOutputs = JSON.parse((await archipel(['runs', 'outputs', runId, '--step', 'shout'])).stdout) as Record<string, { location: string }>;
    expect(Object.values(stepOutputs)[0]!.location).toMatch(new RegExp(`/api/v1/runs/${runId}/files/`));
  }, 90_000);

  it('exits 1 for a failed run and names the failed step; files upload and download round-trip', async () => {
    writeFileSync(path.join(work, 'fail.cwl'), 'cwlVersion: v1.2\nclass: CommandLineTool\nid: fails\nbaseCommand: [sh, -c, "echo broken >&2; exit 4"]\ninputs: {}\noutputs: {}\n');
    const failed = await archipel(['submit', 'fail.cwl', '--project', 'assembly', '--watch', '--logs']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/step fails Failed/);
    // --logs prints the step's log lines, by step, before the step's end.
    expect(failed.stdout).toMatch(/^\[fails\] broken\n(.*\n)*.* step fails Failed/m);
    expect((await archipel(['submit', 'fail.cwl', '--project', 'assembly', '--logs'])).stderr).toMatch(/--logs .*give --watch too/);
    const runId = /run ([0-9a-f]{16}) Failed/.exec(failed.stdout)![1]!;
    expect((await archipel(['runs', 'logs', runId, 'fails'])).stdout).toContain('broken');
    // A requirement the node cannot meet exits 33, as archipel run and cwltool do.
    writeFileSync(path.join(work, 'docker.cwl'), 'cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {DockerRequirement: {dockerPull: debian}}\nbaseCommand: "true"\ninputs: {}\noutputs: {}\n');
    const unsupported = await archipel(['submit', 'docker.cwl', '--project', 'assembly', '--outdir', 'docker-out']);
    expect(unsupported.code, unsupported.stderr).toBe(33);
    expect(unsupported.stderr).toMatch(/DockerRequirement/);
    const missing = await archipel(['submit', 'nothere.cwl', '--project', 'assembly']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^archipel: nothere\.cwl: cannot read the file \(ENOENT\)$/m);
    const bad = await archipel(['submit', 'fail.cwl', '--project', 'nowhere']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/project "nowhere" not found/);

    const uploaded = JSON.parse((await archipel(['files', 'upload', 'reads.txt', '--name', 'r.txt'])).stdout) as { id: string; location: string };
    expect(uploaded.location).toBe(`archipel:files/${uploaded.id}`);

    // A service catalog entry's tool, run with a local job file whose file is uploaded first.
    const svc = await admin('POST', '/catalog/entries', { kind: 'service', name: 'cat service', visibility: 'public', spec: { image: 'debian:12', cwl: 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\ninputs:\n  f: {type: File, inputBinding: {position: 1}}\nstdout: out.txt\noutputs:\n  out: stdout\n' } });
    expect(svc.status, await svc.clone().text()).toBe(201);
    writeFileSync(path.join(work, 'svc-job.yml'), 'f: {class: File, location: reads.txt}\n');
    const viaService = await archipel(['submit', '--service', ((await svc.json()) as { id: string }).id, 'svc-job.yml', '--project', 'assembly', '--outdir', 'svc-out']);
    expect(viaService.code, viaService.stderr).toBe(0);
    expect(viaService.stderr).toMatch(/uploaded .*reads\.txt/);
    expect(readFileSync((JSON.parse(viaService.stdout) as { out: { path: string } }).out.path, 'utf8')).toBe('acgt acgt\n');
    expect((await archipel(['submit', '--project', 'assembly'])).stderr).toMatch(/give the CWL document to run, or --service/);
    expect((await archipel(['submit', '--service', 'nope', 'svc-job.yml', '--project', 'assembly'])).stderr).toMatch(/--service nope: expected a service entry's id, a UUID/);

    // A job file may name what is on the node already: an upload and a data catalog entry, beside a local file.
    mkdirSync(path.join(root, 'shared-reads', 'lane1'), { recursive: true });
    writeFileSync(path.join(root, 'shared-reads', 'lane1', 'r1.txt'), 'gattaca\n');
    const created = await admin('POST', '/catalog/entries', { kind: 'data', name: 'shared reads', visibility: 'public', spec: { source: { type: 'directory', path: path.join(root, 'shared-reads') } } });
    expect(created.status, await created.clone().text()).toBe(201);
    const entry = (await created.json()) as { id: string };
    writeFileSync(path.join(work, 'cat.cwl'), 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sh, -c, \'cat "$0" "$1"; ls "$2"\']\ninputs:\n  up: {type: File, inputBinding: {position: 1}}\n  here: {type: File, inputBinding: {position: 2}}\n  lane: {type: Directory, inputBinding: {position: 3}}\nstdout: out.txt\noutputs:\n  out: stdout\n');
    writeFileSync(path.join(work, 'cat-job.yml'), `up: {class: File, location: "${uploaded.location}"}\nhere: {class: File, location: fail.cwl}\nlane: {class: Directory, location: "archipel:catalog/${entry.id}/lane1"}\n`);
    const mixed = await archipel(['submit', 'cat.cwl', 'cat-job.yml', '--project', 'assembly', '--outdir', 'mixed-out']);
    expect(mixed.code, mixed.stderr).toBe(0);
    const out = JSON.parse(mixed.stdout) as { out: { path: string } };
    expect(readFileSync(out.out.path, 'utf8')).toBe(`acgt acgt\n${readFileSync(path.join(work, 'fail.cwl'), 'utf8')}r1.txt\n`);
    const got = await archipel(['files', 'download', uploaded.location, '-o', 'back.txt']);
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'back.txt'), 'utf8')).toBe('acgt acgt\n');
  }, 90_000);
});
