/**
 * Runs a selection of the official CWL v1.2 conformance tests (../shared/conformance) through
 * `archipel run` and fails when fewer pass than the floor recorded in floors.json.
 *
 *   npx tsx tests/conformance/run-conformance.ts [tools] [-j N] [--results FILE] [--runner CMD ARGS...]
 *
 * `--runner` (last) scores another cwltool-compatible runner on the same selection, with no floor.
 * `--node` runs each test through a node's API instead (`archipel submit --outdir` against an `archipel up`
 * started for the purpose), against the floor `<selection>-node`.
 *
 * `tools`: the CommandLineTool and ExpressionTool tests the reference runner passes here without
 * containers (runnable-here.txt), plus those of cwltool-bugs-runnable.txt, none tagged `workflow`.
 * `workflows`: the tests tagged `workflow` of the same two lists.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const conformance = path.resolve(repo, '../shared/conformance');

interface ConformanceTest {
  id: string;
  tags?: string[];
}

const SELECTIONS: Record<string, (test: ConformanceTest, runnable: Set<string>, bugs: Set<string>) => boolean> = {
  tools: (t, runnable, bugs) => {
    const tags = new Set(t.tags ?? []);
    if (tags.has('workflow')) return false;
    return (runnable.has(t.id) && (tags.has('command_line_tool') || tags.has('expression_tool'))) || bugs.has(t.id);
  },
  workflows: (t, runnable, bugs) => (t.tags ?? []).includes('workflow') && (runnable.has(t.id) || bugs.has(t.id)),
};

const readIds = (file: string) => new Set(readFileSync(path.join(conformance, file), 'utf8').split(/\s+/).filter(Boolean));

async function main() {
  const args = process.argv.slice(2);
  const ownArgs = args.includes('--runner') ? args.slice(0, args.indexOf('--runner')) : args;
  const selection = ownArgs.find((a) => !a.startsWith('-') && SELECTIONS[a]) ?? 'tools';
  const jobs = args.includes('-j') ? args[args.indexOf('-j') + 1]! : '2';
  const results = args.includes('--results') ? args[args.indexOf('--results') + 1] : undefined;
  if (!existsSync(path.join(conformance, 'run-suite.sh'))) {
    process.stderr.write(`conformance suite not found at ${conformance} (expected ../shared beside the repository)\n`);
    process.exit(2);
  }
  const tests = JSON.parse(readFileSync(path.join(conformance, 'tests.json'), 'utf8')) as ConformanceTest[];
  const runnable = readIds('runnable-here.txt');
  const bugs = readIds('cwltool-bugs-runnable.txt');
  const ids = tests.filter((t) => SELECTIONS[selection]!(t, runnable, bugs)).map((t) => t.id);
  const idsFile = path.join(mkdtempSync(path.join(tmpdir(), 'archipel-conformance-')), `${selection}.txt`);
  writeFileSync(idsFile, `${ids.join('\n')}\n`);

  const runnerAt = args.indexOf('--runner');
  const otherRunner = runnerAt >= 0 ? args.slice(runnerAt + 1) : undefined;
  const floors = JSON.parse(readFileSync(path.join(here, 'floors.json'), 'utf8')) as Record<string, number>;
  const throughNode = ownArgs.includes('--node');
  const floorKey = throughNode ? `${selection}-node` : selection;
  const floor = otherRunner ? 0 : (floors[floorKey] ?? 0);
  process.stdout.write(`CWL conformance "${floorKey}": ${ids.length} tests, floor ${floor}\n`);

  const suiteArgs = ['-j', jobs, '--ids', idsFile, ...(results ? ['--results', path.resolve(results)] : [])];
  const archipel = [process.execPath, path.join(repo, 'bin/archipel.js')];
  const node = throughNode ? await startNode() : undefined;
  const runner = otherRunner ?? (node ? [...archipel, 'submit', '--project', 'conformance'] : [...archipel, 'run', '--quiet']);
  const child = spawn(path.join(conformance, 'run-suite.sh'), [...suiteArgs, ...runner], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(node ? { ARCHIPEL_NODE: node.url, ARCHIPEL_TOKEN: node.token } : {}) },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  await new Promise((resolve) => child.on('close', resolve));
  await node?.stop();

  const match = /(\d+) passed, (\d+) failed\s*$/.exec(output.trim());
  if (!match) {
    process.stderr.write('could not read the pass count from run-suite.sh\n');
    process.exit(1);
  }
  const passed = Number(match[1]);
  if (passed < floor) {
    process.stderr.write(`CWL conformance "${floorKey}": ${passed} passed, below the floor of ${floor}\n`);
    process.exit(1);
  }
  if (passed > floor) process.stdout.write(`(above the floor of ${floor}: raise it in tests/conformance/floors.json)\n`);
  process.stdout.write(`${match[0].trim()}\n`);
}

/** An `archipel up` of its own (embedded database, free ports) with a project `conformance`, for `--node`. */
async function startNode(): Promise<{ url: string; token: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'archipel-conformance-node-'));
  const child = spawn(process.execPath, [path.join(repo, 'bin/archipel.js'), 'up', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, DATABASE_URL: '', ARCHIPEL_LOG_FORMAT: 'json' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /API:\s+(http:\/\/\S+)\/api\/v1/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`archipel up exited with ${code}`)));
  });
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const created = await fetch(`${url}/api/v1/projects`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'conformance' }) });
  if (created.status !== 201) throw new Error(`cannot create the project: ${created.status} ${await created.text()}`);
  return {
    url,
    token,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

await main();
