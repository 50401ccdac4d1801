/**
 * Wall time of a CWL conformance selection through `archipel run` and through the reference runner
 * (`cwltool --no-container`), run one after the other on the same machine with the same settings.
 * Prints a markdown section for docs/benchmarks.md. `tools` is the CommandLineTool/ExpressionTool
 * selection; `workflows` the workflow tests, which `archipel run` runs through the Argo translation
 * and the local engine (so their difference is the engine's per-step overhead).
 *
 *   npx tsx bench/cwl-conformance-vs-cwltool.ts [tools|workflows] [-j N]
 *
 * Needs Debian's cwltool (`apt-get install -y cwltool`) and ../shared/conformance beside the repository.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const jobs = args.includes('-j') ? args[args.indexOf('-j') + 1]! : '2';
const selection = args[0] === 'workflows' ? 'workflows' : 'tools';

interface Result {
  id: string;
  status: string;
  seconds?: number;
  time?: number;
  duration?: number;
}

function runSelection(label: string, runner: string[]): { passed: number; failed: number; wall: number; perTest: number[] } {
  const results = path.join(mkdtempSync(path.join(tmpdir(), 'archipel-bench-')), `${label}.json`);
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    [path.join(repo, 'node_modules/.bin/tsx'), path.join(repo, 'tests/conformance/run-conformance.ts'), selection, '-j', jobs, '--results', results, '--runner', ...runner],
    // A cold structure-check cache: only tools used by several tests of this run hit it.
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ARCHIPEL_CACHE_DIR: mkdtempSync(path.join(tmpdir(), 'archipel-bench-cache-')) } },
  );
  const wall = (performance.now() - started) / 1000;
  const summary = /(\d+) passed, (\d+) failed/.exec(child.stdout) ?? ['', '0', '0'];
  const parsed = JSON.parse(readFileSync(results, 'utf8')) as unknown;
  const list: Result[] = Array.isArray(parsed) ? parsed : ((parsed as { results?: Result[] }).results ?? Object.entries(parsed as Record<string, Result>).map(([id, r]) => ({ ...r, id })));
  const perTest = list.map((r) => Number(r.seconds ?? r.time ?? r.duration ?? NaN)).filter(Number.isFinite);
  return { passed: Number(summary[1]), failed: Number(summary[2]), wall, perTest };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const archipel = runSelection('archipel', [process.execPath, path.join(repo, 'bin/archipel.js'), 'run', '--quiet']);
const cwltool = runSelection('cwltool', ['cwltool', '--no-container']);
const fmt = (n: number) => n.toFixed(2);
const row = (name: string, r: typeof archipel) =>
  `| ${name} | ${r.passed} passed, ${r.failed} failed | ${fmt(r.wall)} | ${fmt(sum(r.perTest))} | ${fmt(quantile(r.perTest, 0.5))} | ${fmt(quantile(r.perTest, 0.9))} |`;

process.stdout.write(
  [
    `Selection: the ${archipel.passed + archipel.failed} ${selection === 'tools' ? 'CommandLineTool/ExpressionTool' : 'workflow'} conformance tests (tests/conformance/run-conformance.ts "${selection}"), -j ${jobs}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| runner | result | wall (s) | sum of per-test (s) | median per test (s) | p90 per test (s) |',
    '|---|---|---:|---:|---:|---:|',
    row('archipel run', archipel),
    row('cwltool --no-container', cwltool),
    '',
    `Ratio (cwltool / archipel): wall ${fmt(cwltool.wall / archipel.wall)}×, median per test ${fmt(quantile(cwltool.perTest, 0.5) / quantile(archipel.perTest, 0.5))}×, sum of per-test ${fmt(sum(cwltool.perTest) / sum(archipel.perTest))}×.`,
    '',
  ].join('\n'),
);
