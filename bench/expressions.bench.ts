/**
 * The cost of CWL expressions: sandbox creation and per-expression time in the QuickJS sandbox.
 * Run: npx tsx bench/expressions.bench.ts   (prints a markdown section for docs/benchmarks.md)
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createExpressionEvaluator, type ExpressionContext, type ExpressionEvaluator } from '../orchestrator/cwl/expressions/index.ts';

const COUNT = 10_000;

function file(i: number) {
  return { class: 'File', location: `file:///data/sample${i}.bam`, basename: `sample${i}.bam`, nameroot: `sample${i}`, nameext: '.bam', size: 1000 + i };
}

function inputsWith(files: number) {
  return { x: 41, arr: Array.from({ length: 100 }, (_, i) => i), files: Array.from({ length: files }, (_, i) => file(i)) };
}

const runtime = { outdir: '/var/spool/out', tmpdir: '/tmp', cores: 4, ram: 8192, outdirSize: 1024, tmpdirSize: 1024 };

interface Row {
  name: string;
  count: number;
  ms: number;
}

/** Best of three runs: the machine is shared, and V8 optimises the WebAssembly code as it runs hot. */
function measure(name: string, count: number, evaluator: ExpressionEvaluator, text: string, context: (i: number) => ExpressionContext): Row {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    for (let i = 0; i < count; i++) evaluator.evaluate(text, context(i));
    best = Math.min(best, performance.now() - started);
  }
  return { name, count, ms: best };
}

async function timed<T>(create: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await create();
  return [value, performance.now() - started];
}

const [first, firstMs] = await timed(() => createExpressionEvaluator({ javascript: true }));
const laterMs: number[] = [];
for (let i = 0; i < 9; i++) {
  const [later, ms] = await timed(() => createExpressionEvaluator({ javascript: true }));
  later.evaluate('$(1 + 1)', { inputs: null, self: null, runtime: null });
  later.close();
  laterMs.push(ms);
}
const [noJs, noJsMs] = await timed(() => createExpressionEvaluator({ javascript: false }));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const small = inputsWith(20);
const large = inputsWith(5_000);
const same = (inputs: unknown): ((i: number) => ExpressionContext) => {
  const context = { inputs, self: null, runtime };
  return () => context;
};
const selves = Array.from({ length: COUNT }, (_, i) => file(i));
const changingSelf = (i: number): ExpressionContext => ({ inputs: small, self: selves[i % COUNT], runtime });

const rows: Row[] = [
  measure('`$(inputs.x + 1)`, same inputs', COUNT, first, '$(inputs.x + 1)', same(small)),
  measure('`${ return inputs.arr.map(x => x * 2).length }`, same inputs', COUNT, first, '${ return inputs.arr.map(x => x * 2).length }', same(small)),
  measure("`$(self.nameroot + '.bai')`, a new `self` File each call", COUNT, first, "$(self.nameroot + '.bai')", changingSelf),
  measure('`--in=$(self.basename) --cores=$(runtime.cores)` (parameter references, JS on)', COUNT, first, '--in=$(self.basename) --cores=$(runtime.cores)', changingSelf),
  measure('`$(inputs.files[3].basename)` (parameter reference, no JavaScript)', COUNT, noJs, '$(inputs.files[3].basename)', same(small)),
  measure('`$(inputs.x + 1)`, same large inputs (5,000 Files)', 1_000, first, '$(inputs.x + 1)', same(large)),
  measure('`$(inputs.x + 1)`, a new large inputs object each call', 50, first, '$(inputs.x + 1)', () => ({ inputs: { ...large }, self: null, runtime })),
];
first.close();
noJs.close();

const kb = (value: unknown) => `${(JSON.stringify(value).length / 1024).toFixed(1)} KB`;
const out: string[] = [
  '## CWL expressions (QuickJS sandbox)',
  '',
  `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} — \`npx tsx bench/expressions.bench.ts\`.`,
  `Inputs: ${kb(small)} of JSON (100 numbers, 20 Files); large inputs: ${kb(large)}. Each case: best of three runs.`,
  '',
  '| case | evaluations | total ms | µs per evaluation |',
  '|---|---:|---:|---:|',
  ...rows.map((row) => `| ${row.name} | ${row.count.toLocaleString('en')} | ${row.ms.toFixed(0)} | ${((row.ms * 1000) / row.count).toFixed(1)} |`),
  '',
  '| one-off cost | ms |',
  '|---|---:|',
  `| first JavaScript evaluator in the process (compile the WASM module, two instances, runtime, context) | ${firstMs.toFixed(1)} |`,
  `| each further JavaScript evaluator (two instances, runtime, context), median of 9 | ${median(laterMs).toFixed(1)} |`,
  `| evaluator without JavaScript | ${noJsMs.toFixed(2)} |`,
  '',
];
process.stdout.write(out.join('\n'));
