/**
 * Time to translate generated CWL workflows of 100, 1,000 and 10,000 steps (a chain, each step a
 * command-line tool reading the previous step's output) into one Argo Workflow, and the Workflow's
 * size as compact JSON (Argo refuses objects over 1 MB, etcd's limit).
 *
 *   npx tsx bench/translate.bench.ts
 */
import type { CommandLineTool, Workflow } from '../orchestrator/cwl/model.ts';
import { translateWorkflow } from '../orchestrator/translate/translate-workflow.ts';

const tool: CommandLineTool = {
  class: 'CommandLineTool',
  id: 'touch',
  cwlVersion: 'v1.2',
  inputs: [{ id: 'in', type: ['null', 'File'] }],
  outputs: [{ id: 'out', type: 'File', outputBinding: { glob: 'out' } }],
  requirements: [{ class: 'ResourceRequirement', coresMin: 1, ramMin: 512 }],
  hints: [],
  namespaces: {},
  schemas: [],
  sourceFile: '/bench/touch.cwl',
  baseCommand: ['touch', 'out'],
  arguments: [],
  successCodes: [0],
  temporaryFailCodes: [],
  permanentFailCodes: [],
};

function chain(steps: number): Workflow {
  return {
    class: 'Workflow',
    id: `chain-${steps}`,
    cwlVersion: 'v1.2',
    inputs: [],
    outputs: [{ id: 'last', type: 'File', outputSource: [`s${steps - 1}/out`] }],
    requirements: [],
    hints: [],
    namespaces: {},
    schemas: [],
    sourceFile: '/bench/chain.cwl',
    steps: Array.from({ length: steps }, (_, i) => ({
      id: `s${i}`,
      in: i === 0 ? [] : [{ id: 'in', source: [`s${i - 1}/out`] }],
      out: ['out'],
      run: tool,
      requirements: [],
      hints: [],
      scatter: [],
    })),
  };
}

const rows: string[] = [];
for (const steps of [100, 1_000, 10_000]) {
  const workflow = chain(steps);
  translateWorkflow(workflow, { runId: 'warm' });
  const runs = steps >= 10_000 ? 3 : 10;
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    translateWorkflow(workflow, { runId: `r${r}`, placement: { [`s${steps - 1}`]: 'lab-b' } });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const bytes = Buffer.byteLength(JSON.stringify(translateWorkflow(workflow, { runId: 'size', placement: { [`s${steps - 1}`]: 'lab-b' } })));
  rows.push(`| ${steps.toLocaleString('en')} | ${median.toFixed(1)} | ${((median / steps) * 1000).toFixed(1)} | ${(bytes / 1024).toFixed(0)} | ${bytes <= 1024 * 1024 ? 'yes' : 'no'} |`);
}
process.stdout.write(['| steps | median ms | µs per step | Workflow KiB (compact JSON) | within 1 MiB |', '|---:|---:|---:|---:|---|', ...rows, ''].join('\n'));
