import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { dump } from 'js-yaml';
import { InvalidInputError, type InputIssue } from '../core/index.ts';
import { asWorkflow, loadCwlProcess, readJobFile, stepDemands, translateWorkflow } from '../orchestrator/index.ts';

/**
 * `--place STEP=CLUSTER` options as a placement map, every problem reported at once: each option must
 * have that shape, name one of `toolSteps` (the workflow's command-line tool steps, `outer/inner`
 * inside subworkflows), and give a cluster id that `isClusterId` accepts. Whether that cluster exists,
 * or is peered, only a node knows (`archipel plan`).
 */
export function parsePlacements(values: string[], toolSteps: string[], isClusterId: (id: string) => boolean): Record<string, string> {
  const placement: Record<string, string> = {};
  const issues: InputIssue[] = [];
  for (const value of values) {
    const match = /^([^=]+)=(.*)$/.exec(value);
    if (!match) {
      issues.push({ path: `--place ${value}`, message: 'expected STEP=CLUSTER' });
      continue;
    }
    const [, step, cluster] = match as unknown as [string, string, string];
    if (!toolSteps.includes(step)) issues.push({ path: `--place ${value}`, message: `no command-line tool step "${step}" in this workflow` });
    if (!isClusterId(cluster)) issues.push({ path: `--place ${value}`, message: `"${cluster}" is not a cluster id (a libp2p peer id such as 12D3KooW..., as archipel up prints it)` });
    placement[step] = cluster;
  }
  if (!issues.length) return placement;
  const steps = issues.some((i) => i.message.startsWith('no command-line tool step')) ? ` (its command-line tool steps: ${toolSteps.join(', ') || 'none'})` : '';
  throw new InvalidInputError(issues.length === 1 ? `${issues[0]!.path}: ${issues[0]!.message}${steps}` : `${issues.length} problems with --place${steps}`, issues);
}

/** `archipel argo export`: prints the Argo Workflow a CWL workflow translates to. */
export function registerArgoCommand(program: Command) {
  const argo = program.command('argo').description('Argo Workflows: translate CWL workflows');
  argo
    .command('export')
    .description('print the Argo Workflow that runs a CWL workflow (or a single tool), with cross-cluster placement')
    .argument('<workflow>', 'the CWL document (optionally #id)')
    .argument('[job]', 'a job file: embedded as the Workflow\'s "job" parameter')
    .option('--place <step=cluster>', 'run a command-line tool step (outer/inner in a subworkflow) on the cluster of this cluster id (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('--run-id <id>', 'the run id (object-store prefix runs/<id>); random by default')
    .option('--namespace <ns>', 'metadata.namespace of the Workflow')
    .addHelpText(
      'after',
      '\n--place is checked against the workflow and for its form: the step must be one of its command-line tool steps,\nand the cluster a cluster id (a libp2p peer id, 12D3KooW..., as archipel up prints it). Whether that cluster\nexists or is peered, export cannot know: archipel plan asks a node.',
    )
    .action(async (workflow: string, jobFile: string | undefined, options: { place?: string[]; output: string; runId?: string; namespace?: string }) => {
      if (options.output !== 'yaml' && options.output !== 'json') throw new InvalidInputError(`-o ${options.output}: expected yaml or json`);
      const cwd = process.cwd();
      const proc = asWorkflow(await loadCwlProcess(workflow, cwd));
      const job = jobFile ? readJobFile(path.resolve(cwd, jobFile)).job : undefined;
      let placement: Record<string, string> = {};
      if (options.place?.length) {
        // Loaded only when needed: the peer-id parser comes with libp2p.
        const { parseClusterId } = await import('../discovery/index.ts');
        const isClusterId = (id: string) => {
          try {
            parseClusterId(id);
            return true;
          } catch {
            return false;
          }
        };
        placement = parsePlacements(options.place, stepDemands(proc).map((s) => s.step), isClusterId);
      }
      const manifest = translateWorkflow(proc, {
        runId: options.runId ?? randomBytes(6).toString('hex'),
        placement,
        ...(options.namespace ? { namespace: options.namespace } : {}),
        ...(job ? { job } : {}),
      });
      process.stdout.write(options.output === 'json' ? `${JSON.stringify(manifest, null, 2)}\n` : dump(manifest, { lineWidth: 120, noRefs: true }));
    });
}
