/**
 * What a workflow step costs beyond its tool: chains of 1, 5 and 10 steps and a scatter over 10
 * items of a tool that does almost nothing (`echo`), each run through `archipel run` (translation + the
 * local engine: a prepare, a stage/tool/collect pod and a gather per step) and through the reference
 * runner (`cwltool --no-container`). The slope between the chains is the per-step overhead. Prints a
 * markdown section for docs/benchmarks.md.
 *
 *   npx tsx bench/workflow-step-overhead.bench.ts [--repeat N]
 *
 * Needs Debian's cwltool (`apt-get install -y cwltool`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const repeat = args.includes('--repeat') ? Number(args[args.indexOf('--repeat') + 1]) : 3;
const dir = mkdtempSync(path.join(tmpdir(), 'archipel-step-bench-'));

writeFileSync(
  path.join(dir, 'echo.cwl'),
  'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs:\n  word: {type: string, inputBinding: {position: 1}}\nstdout: said.txt\noutputs:\n  said: stdout\n',
);
function chain(steps: number): string {
  const lines = ['cwlVersion: v1.2', 'class: Workflow', 'inputs:', '  word: string', 'outputs:', `  said: {type: File, outputSource: s${steps - 1}/said}`, 'steps:'];
  for (let i = 0; i < steps; i++) {
    // Each step waits for the one before it (a data dependency) but echoes the same word.
    lines.push(`  s${i}:`, '    run: echo.cwl', `    in: {word: word${i ? `, after: s${i - 1}/said` : ''}}`, '    out: [said]');
  }
  return `${lines.join('\n')}\n`;
}
const scatter = `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs:
  words: string[]
outputs:
  said: {type: 'File[]', outputSource: s/said}
steps:
  s: {run: echo.cwl, scatter: word, in: {word: words}, out: [said]}
`;
const cases = [
  { name: 'chain of 1 step', file: 'chain-1.cwl', text: chain(1), job: '{"word": "hi"}', steps: 1 },
  { name: 'chain of 5 steps', file: 'chain-5.cwl', text: chain(5), job: '{"word": "hi"}', steps: 5 },
  { name: 'chain of 10 steps', file: 'chain-10.cwl', text: chain(10), job: '{"word": "hi"}', steps: 10 },
  { name: 'scatter over 10 items', file: 'scatter-10.cwl', text: scatter, job: JSON.stringify({ words: [...'abcdefghij'] }), steps: 10 },
];
for (const c of cases) {
  writeFileSync(path.join(dir, c.file), c.text);
  writeFileSync(path.join(dir, `${c.file}.json`), c.job);
}

const runners = {
  'archipel run': [process.execPath, path.join(repo, 'bin/archipel.js'), 'run', '--quiet'],
  'cwltool --no-container': ['cwltool', '--no-container', '--quiet'],
};

/** Median wall seconds of `repeat` runs (after one warm-up run that fills caches). */
function time(runner: string[], file: string): number {
  const run = () => {
    const out = mkdtempSync(path.join(dir, 'out-'));
    const started = performance.now();
    const child = spawnSync(runner[0]!, [...runner.slice(1), '--outdir', out, path.join(dir, file), path.join(dir, `${file}.json`)], { encoding: 'utf8', cwd: dir });
    const seconds = (performance.now() - started) / 1000;
    if (child.status !== 0) throw new Error(`${runner.join(' ')} ${file} failed: ${child.stderr}`);
    return seconds;
  };
  run();
  const times = Array.from({ length: repeat }, run).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const results = Object.entries(runners).map(([name, runner]) => ({ name, seconds: cases.map((c) => time(runner, c.file)) }));
rmSync(dir, { recursive: true, force: true });

const fmt = (n: number) => n.toFixed(2);
const perStep = (s: number[]) => (s[2]! - s[0]!) / 9;
process.stdout.write(
  [
    `Median of ${repeat} runs after a warm-up, ${new Date().toISOString().slice(0, 10)}; wall seconds per workflow.`,
    '',
    `| runner | ${cases.map((c) => c.name).join(' | ')} | per extra chained step |`,
    `|---|${cases.map(() => '---:').join('|')}|---:|`,
    ...results.map((r) => `| ${r.name} | ${r.seconds.map(fmt).join(' | ')} | ${fmt(perStep(r.seconds))} |`),
    '',
  ].join('\n'),
);
